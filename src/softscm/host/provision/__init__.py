"""The provisioning station: phases with saved state, the station CA, signed manufacturing records."""

from .phases import BootPhase, BootResult, DiskPhase, DiskResult, Phase, Status, StepReport
from .record import ManufacturingRecord, RecordBook, RecordCheck, SignedRecord, export_csv, export_json
from .station import Progress, Station, StationConfig, UnitOutcome, UnitPlan, UnitSpec

__all__ = [
    "BootPhase", "BootResult", "DiskPhase", "DiskResult", "ManufacturingRecord", "Phase", "Progress", "RecordBook",
    "RecordCheck", "SignedRecord", "Station", "StationConfig", "Status", "UnitOutcome", "UnitPlan", "UnitSpec",
    "StepReport", "export_csv", "export_json",
]
