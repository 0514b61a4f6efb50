"""API bodies of the technical check (msgspec): the device register and its import, the
sample, device results and measures. Values are checked by the service, which names the
field in a translated message (422); a measure's particulars are the fields of its kind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from msgspec import UNSET, UnsetType


class DeviceCreate(msgspec.Struct, forbid_unknown_fields=True):
    kind: str  # computer | it_device | mailbox
    label: str
    classified: bool | str | UnsetType = UNSET
    holder: str | UnsetType = UNSET
    location: str | UnsetType = UNSET


class DeviceUpdate(msgspec.Struct, forbid_unknown_fields=True):
    kind: str | UnsetType = UNSET
    label: str | UnsetType = UNSET
    classified: bool | str | UnsetType = UNSET
    holder: str | UnsetType = UNSET
    location: str | UnsetType = UNSET


class RegisterDevice(msgspec.Struct):
    """A device as the unit's register keeps it."""

    id: str
    kind: str
    label: str
    classified: bool
    holder: str
    location: str


class Device(RegisterDevice):
    created_at: datetime


class DeviceState(msgspec.Struct):
    """What the register held of a device when the preview was made."""

    classified: bool
    holder: str
    location: str


class DeviceImportRow(msgspec.Struct):
    """A good row of a register workbook and what applying it would do: new | update | same."""

    line: int
    kind: str
    label: str
    classified: bool
    holder: str
    location: str
    status: str
    before: DeviceState | None


class ImportProblem(msgspec.Struct):
    line: int
    field: str
    message: str


class DeviceImportPreview(msgspec.Struct):
    id: str
    unit_id: str
    filename: str
    status: str  # preview | applied
    created_at: datetime
    applied_at: datetime | None
    rows: list[DeviceImportRow]
    errors: list[ImportProblem]
    counts: dict[str, int]
    clean: bool


class DeviceImportApplied(msgspec.Struct):
    added: int
    updated: int
    unchanged: int


class SampleDraw(msgspec.Struct, forbid_unknown_fields=True):
    """Draw `size` devices of the unit's register; the same seed draws the same devices
    (none given: a new one, kept with the inspection)."""

    size: int | str | UnsetType = UNSET
    seed: str | None | UnsetType = UNSET


class PreservedItem(msgspec.Struct, forbid_unknown_fields=True):
    name: str | UnsetType = UNSET
    sha256: str | UnsetType = UNSET


class MeasureIn(msgspec.Struct, forbid_unknown_fields=True):
    """A measure: its kind and that kind's fields — register_preserve: preserved, kept_at,
    acknowledged_by; order_delete: what, confirmed_by; order_stop_use: since (the device is
    the one the measure is about); transfer: package, received_by, transferred_on and the
    receipt_no (made when not given)."""

    kind: str  # register_preserve | order_delete | order_stop_use | transfer
    preserved: list[PreservedItem] | UnsetType = UNSET
    kept_at: str | UnsetType = UNSET
    acknowledged_by: str | UnsetType = UNSET
    what: str | UnsetType = UNSET
    confirmed_by: str | UnsetType = UNSET
    since: str | UnsetType = UNSET
    package: str | UnsetType = UNSET
    receipt_no: str | UnsetType = UNSET
    received_by: str | UnsetType = UNSET
    transferred_on: str | UnsetType = UNSET


class MeasureCreate(MeasureIn, forbid_unknown_fields=True):
    """A measure about a sampled device recorded as a violation, and/or a finding."""

    device_id: str | None | UnsetType = UNSET
    finding_id: str | None | UnsetType = UNSET


class DeviceResult(msgspec.Struct, forbid_unknown_fields=True):
    result: str  # clean | violation
    note: str | UnsetType = UNSET
    measure: MeasureIn | None | UnsetType = UNSET


class Measure(msgspec.Struct):
    id: str
    kind: str
    device_id: str | None
    device_label: str
    finding_id: str | None
    # the kind's particulars, as MeasureIn names them (order_stop_use adds "device", the
    # device's label; transfer always has its receipt_no)
    details: dict[str, Any]
    created_by: str
    created_at: datetime


class SampleDevice(RegisterDevice):
    """A drawn device and its check."""

    result: str  # "" until checked | clean | violation
    note: str
    checked_by: str
    checked_at: datetime | None
    measures: list[Measure]


class Sample(msgspec.Struct):
    size: int | None
    seed: str
    sampled_at: datetime | None
    devices: list[SampleDevice]
    checked: int
