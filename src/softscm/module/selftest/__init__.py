"""Self tests: known-answer tests from official vectors (:mod:`.kat`, :mod:`.kat_table`),
SP 800-90B entropy health tests (:mod:`.health`), integrity digests (:mod:`.integrity`), the
pair-wise consistency test (:mod:`.pairwise`), typed reports (:mod:`.report`), test-only fault
injection (:mod:`.faults`) and the power-on / background / commanded runs (:mod:`.runner`)."""
