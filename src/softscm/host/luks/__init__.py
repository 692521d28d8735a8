"""LUKS2 disk encryption under the module: the cryptsetup driver, key custody, enrolment and
re-keying, boot-time unlock and recovery escrow."""

from .cryptsetup import Cryptsetup, LuksMetadata, Pbkdf, ReencryptProgress
from .custody import ClientCustody, KeyCustody
from .enroll import Enroller, EnrolResult, Step, VolumeStatus
from .token import EnrolState, SoftscmToken

__all__ = ["ClientCustody", "Cryptsetup", "EnrolResult", "EnrolState", "Enroller", "KeyCustody", "LuksMetadata",
           "Pbkdf", "ReencryptProgress", "SoftscmToken", "Step", "VolumeStatus"]
