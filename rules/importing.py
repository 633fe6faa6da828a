"""Members brought over from another loyalty system (Youzan, a POS vendor, a spreadsheet), as pure planning.

One row of the import file becomes one member: a profile, its phone and referral-code lookups, and the opening
ledger entries and lots (kind `import`, each explained by the file and row it came from). The store writes a row in
one transaction. A row is keyed by brand + external id: the member id and the entry ids derive from it, so the
same row imported twice is the same write, refused the second time, and a rerun after a crash ends where one clean
run would have. "Now" comes from the caller (the command's --now), never from the clock.

Columns (CSV header or JSONL keys):

    external_id        the member's id in the old system (required, at most 64 characters)
    phone              mainland mobile number (required)
    nickname           optional, at most 32 characters
    birthday           optional: MM-DD, --MM-DD or YYYY-MM-DD (only month and day are kept)
    tier               optional: a tier code or name of the brand's ladder (default: the entry tier)
    tier_valid_until   optional date: the tier is held through that day (default: the brand's tier validity)
    growth             optional whole number >= 0
    lots               points lots: "100@2027-06-30;50@2027-12-31" in CSV; in JSONL also
                       [{"points": 100, "expiresOn": "2027-06-30"}]. A lot is spendable through its expiry day.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Iterator, Mapping

from rules import phone as phones
from rules.brands import BrandConfig, TierLevel
from rules.errors import InvalidInput
from rules.ledger import Allocation, Entry, EntryKind, Lot, MAX_LOTS_PER_POSTING, Posting
from rules.members import LookupKind, MemberProfile, Registration, lookups_for, valid_nickname
from rules.months import local_day, months_after, start_of_day

COLUMNS = ("external_id", "phone", "nickname", "birthday", "tier", "tier_valid_until", "growth", "lots")
_ALIASES = {"externalId": "external_id", "tierValidUntil": "tier_valid_until", "pointsLots": "lots"}
# A member's import is one DynamoDB transaction (100 items): the profile, two lookups, the import key, and two
# items (lot and entry) per lot.
MAX_LOTS = min(40, MAX_LOTS_PER_POSTING)
IMPORT_CHANNEL = "import"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

# Why a row is refused (the report names one or more per row).
BAD_PHONE = "BAD_PHONE"
PHONE_TAKEN = "PHONE_TAKEN"
NEGATIVE_POINTS = "NEGATIVE_POINTS"
EXPIRY_IN_PAST = "EXPIRY_IN_PAST"
UNKNOWN_TIER = "UNKNOWN_TIER"
BAD_VALUE = "BAD_VALUE"
MISSING = "MISSING"
REASON_TEXT = {
    BAD_PHONE: "手机号无效",
    PHONE_TAKEN: "该手机号已是会员",
    NEGATIVE_POINTS: "积分或成长值为负数",
    EXPIRY_IN_PAST: "有效期已过",
    UNKNOWN_TIER: "等级不存在",
    BAD_VALUE: "格式错误",
    MISSING: "缺少必填项",
}


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class RejectedRow:
    row: int
    external_id: str | None
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class PlannedMember:
    """Everything one row writes: the registration (profile with tier and growth) and the opening posting."""

    row: int
    external_id: str
    registration: Registration
    posting: Posting

    @property
    def points(self) -> int:
        return self.posting.points


@dataclass(frozen=True)
class Source:
    """Where the rows come from: the file's name (kept in each entry's explanation) and the brand's config."""

    name: str
    brand: BrandConfig
    now: datetime
    phone_key: str
    problems: list[Problem] = field(default_factory=list)


# ---- reading ----------------------------------------------------------------------------------------------------


def detect_format(name: str, text_start: str) -> str:
    if name.lower().endswith((".jsonl", ".ndjson", ".json")) or text_start.lstrip().startswith("{"):
        return "jsonl"
    return "csv"


def read_rows(lines: Iterable[str], fmt: str) -> Iterator[tuple[int, Mapping[str, Any] | None]]:
    """(row number, fields) for each data row, numbered from 1 as a spreadsheet shows them after the header (CSV)
    or by line (JSONL). A line that cannot be read yields None for its fields: it is reported, not skipped."""
    if fmt == "jsonl":
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                yield number, None
                continue
            yield number, ({_ALIASES.get(k, k): v for k, v in value.items()} if isinstance(value, dict) else None)
        return
    reader = csv.DictReader(lines)
    for number, record in enumerate(reader, start=1):
        yield number, {_ALIASES.get(k.strip(), k.strip()): (v.strip() if isinstance(v, str) else v)
                       for k, v in record.items() if k is not None}


def text_lines(text: str) -> Iterator[str]:
    return iter(io.StringIO(text.lstrip("\ufeff"), newline=""))


# ---- planning ---------------------------------------------------------------------------------------------------


def member_id_for(brand_id: str, external_id: str) -> str:
    """The same row always makes the same member: the key of idempotence and of resuming after a crash."""
    return "m_i" + hashlib.sha256(f"{brand_id}\0{external_id}".encode()).hexdigest()[:15]


def referral_code_for(member_id: str, attempt: int = 0) -> str:
    digest = hashlib.sha256(f"{member_id}\0{attempt}".encode()).digest()
    return "".join(_CODE_ALPHABET[b % len(_CODE_ALPHABET)] for b in digest[:8])


def plan_row(source: Source, row: int, fields: Mapping[str, Any] | None) -> PlannedMember | RejectedRow:
    if fields is None:
        return RejectedRow(row, None, (Problem("row", BAD_VALUE, "这一行无法解析"),))
    problems: list[Problem] = []
    brand, now = source.brand, source.now
    external_id = _text(fields.get("external_id"))
    if not external_id:
        problems.append(Problem("external_id", MISSING, "缺少外部会员编号"))
    elif len(external_id) > 64 or not external_id.isprintable():
        problems.append(Problem("external_id", BAD_VALUE, "外部会员编号最多 64 个可打印字符"))
    normalised = None
    try:
        normalised = phones.normalise(_text(fields.get("phone")) or "")
    except InvalidInput:
        problems.append(Problem("phone", BAD_PHONE, "手机号无效：应为 11 位中国大陆手机号"))
    nickname = None
    try:
        nickname = valid_nickname(_text(fields.get("nickname")))
    except InvalidInput as bad:
        problems.append(Problem("nickname", BAD_VALUE, bad.message))
    birthday = _birthday(_text(fields.get("birthday")), problems)
    tier = _tier(brand, _text(fields.get("tier")), problems)
    growth = _whole(fields.get("growth"), "growth", problems)
    until = _tier_until(source, tier, _text(fields.get("tier_valid_until")), problems)
    lots = _lots(source, fields.get("lots"), problems)
    if problems:
        return RejectedRow(row, external_id or None, tuple(problems))
    member_id = member_id_for(brand.brand_id, external_id)
    entries, new_lots = [], []
    for index, (points, expires_on, expires_at) in enumerate(lots):
        entry_id = f"import-{member_id}-{index}"
        explanation = {"plugin": "import", "version": "1", "rule": "opening-balance",
                       "inputs": {"file": source.name, "row": row, "externalId": external_id, "points": points,
                                  "expiresOn": expires_on.isoformat()}}
        new_lots.append(Lot(lot_id=entry_id, earned=points, remaining=points, earned_at=now, expires_at=expires_at,
                            source=f"import:{source.name}:{row}"))
        entries.append(Entry(entry_id=entry_id, at=now, kind=EntryKind.IMPORT, points=points,
                             allocations=(Allocation(entry_id, expires_at, points),),
                             reason=f"导入：{source.name} 第 {row} 行", actor="import", explanation=explanation))
    profile = MemberProfile(
        brand_id=brand.brand_id, member_id=member_id, phone_hash=phones.phone_hash(normalised, source.phone_key),
        phone_masked=phones.mask(normalised), channel=IMPORT_CHANNEL, referral_code=referral_code_for(member_id),
        registered_at=now, tier_code=tier.code, tier_valid_until=until, growth=growth, birthday=birthday,
        nickname=nickname)
    return PlannedMember(row=row, external_id=external_id, registration=Registration(profile, lookups_for(profile)),
                         posting=Posting(entries=tuple(entries), new_lots=tuple(new_lots)))


def with_new_referral_code(planned: PlannedMember, attempt: int) -> PlannedMember:
    from dataclasses import replace

    profile = replace(planned.registration.profile,
                      referral_code=referral_code_for(planned.registration.profile.member_id, attempt))
    return replace(planned, registration=Registration(profile, lookups_for(profile)))


def phone_taken(planned: PlannedMember) -> RejectedRow:
    return RejectedRow(planned.row, planned.external_id, (Problem("phone", PHONE_TAKEN, "该手机号已是本品牌会员"),))


def phone_lookup(planned: PlannedMember) -> str:
    return dict(planned.registration.lookups)[LookupKind.PHONE]


# ---- fields -----------------------------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: str, name: str, problems: list[Problem]) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.append(Problem(name, BAD_VALUE, f"日期格式应为 YYYY-MM-DD：{value[:20]}"))
        return None


def _birthday(value: str | None, problems: list[Problem]) -> str | None:
    if value is None:
        return None
    match = re.fullmatch(r"(?:\d{4}-|--)?(\d{2})-(\d{2})", value)
    if match:
        try:
            date(2024, int(match.group(1)), int(match.group(2)))
            return f"--{match.group(1)}-{match.group(2)}"
        except ValueError:
            pass
    problems.append(Problem("birthday", BAD_VALUE, "生日格式应为 MM-DD 或 YYYY-MM-DD"))
    return None


def _tier(brand: BrandConfig, value: str | None, problems: list[Problem]) -> TierLevel:
    if value is None:
        return brand.entry_tier
    for level in brand.tiers:
        if value in (level.code, level.name):
            return level
    problems.append(Problem("tier", UNKNOWN_TIER, f"等级不存在：{value[:32]}"))
    return brand.entry_tier


def _whole(value: Any, name: str, problems: list[Problem]) -> int:
    if value is None or value == "":
        return 0
    try:
        number = int(str(value).strip())
    except ValueError:
        problems.append(Problem(name, BAD_VALUE, f"应为整数：{str(value)[:20]}"))
        return 0
    if number < 0:
        problems.append(Problem(name, NEGATIVE_POINTS, f"不能为负数：{number}"))
        return 0
    return number


def _through(day: date, source: Source) -> datetime:
    """Held through `day` (brand-local): over at the start of the next day."""
    return start_of_day(day + timedelta(days=1), source.brand.timezone)


def _tier_until(source: Source, tier: TierLevel, value: str | None, problems: list[Problem]) -> datetime | None:
    if value is None:
        if tier.code == source.brand.entry_tier.code:
            return None
        return months_after(source.now, source.brand.tier_validity_months, source.brand.timezone)
    day = _date(value, "tier_valid_until", problems)
    if day is None:
        return None
    if day < local_day(source.now, source.brand.timezone):
        problems.append(Problem("tier_valid_until", EXPIRY_IN_PAST, f"等级有效期已过：{day.isoformat()}"))
        return None
    return _through(day, source)


def _lots(source: Source, value: Any, problems: list[Problem]) -> list[tuple[int, date, datetime]]:
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, str):
        raw = []
        for part in value.split(";"):
            if not part.strip():
                continue
            points, _, expires = part.partition("@")
            raw.append({"points": points.strip(), "expiresOn": expires.strip()})
    elif isinstance(value, list):
        raw = [v if isinstance(v, dict) else {} for v in value]
    else:
        problems.append(Problem("lots", BAD_VALUE, "积分批次格式应为 100@2027-06-30;50@2027-12-31"))
        return []
    if len(raw) > MAX_LOTS:
        problems.append(Problem("lots", BAD_VALUE, f"每位会员最多 {MAX_LOTS} 个积分批次"))
        return []
    today = local_day(source.now, source.brand.timezone)
    lots = []
    for index, lot in enumerate(raw):
        name = f"lots[{index}]"
        before = len(problems)
        points = _whole(lot.get("points"), f"{name}.points", problems)
        if len(problems) == before and points == 0:
            problems.append(Problem(f"{name}.points", BAD_VALUE, "积分批次的积分应大于 0"))
        expires_text = _text(lot.get("expiresOn") or lot.get("expires_on"))
        if expires_text is None:
            problems.append(Problem(f"{name}.expiresOn", MISSING, "积分批次缺少到期日"))
            continue
        day = _date(expires_text, f"{name}.expiresOn", problems)
        if day is not None and day < today:
            problems.append(Problem(f"{name}.expiresOn", EXPIRY_IN_PAST, f"积分已过期：{day.isoformat()}"))
        if len(problems) == before and day is not None:
            lots.append((points, day, _through(day, source)))
    return lots
