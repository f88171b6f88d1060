"""Reading a pupil/consent CSV exported by a school's MIS: flexible headers, checked cells, errors by row (pure)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from services.consent.purposes import PURPOSE_LABELS
from services.consent.rules import purpose_in
from storage.consent_models import ConsentState, Purpose

if TYPE_CHECKING:
    import _csv

# Header aliases, compared lower-case with everything but letters and digits removed; earlier aliases win.
FIELDS: dict[str, tuple[str, ...]] = {
    "mis_id": ("misid", "admissionno", "admissionnumber", "adno", "upn", "pupilid", "studentid", "pupilnumber", "id"),
    "surname": ("legalsurname", "surname", "lastname", "familyname"),
    "forename": ("legalforename", "forename", "firstname", "legalfirstname", "givenname"),
    "preferred": ("preferredname", "preferredforename", "preferredfirstname", "knownas", "chosenname"),
    "year": ("year", "yeargroup", "ncyear", "nationalcurriculumyear", "yr"),
    "class": ("reggroup", "registrationgroup", "class", "classname", "form", "tutorgroup"),
    "given_by": ("consentgivenby", "givenby", "consentby", "signedby"),
    "given_on": ("consentdate", "dateofconsent", "consentgivenon", "dategiven", "signeddate"),
    "review_on": ("reviewdate", "consentreviewdate", "expirydate", "consentexpiry", "consentexpires", "expires", "reviewby"),
    "never": ("neverpublish", "donotpublish", "nevertopublish"),
    "never_reason": ("neverpublishreason", "donotpublishreason", "reason"),
}
REQUIRED = ("mis_id", "surname", "forename", "year", "class")
FIELD_NAMES = {
    "mis_id": "MIS ID (or UPN / Admission No)", "surname": "Legal Surname", "forename": "Forename", "preferred": "Preferred name",
    "year": "Year", "class": "Reg group / Class", "given_by": "Consent given by", "given_on": "Consent date",
    "review_on": "Review date", "never": "Never publish", "never_reason": "Never publish reason",
}
LIMITS = {"mis_id": 40, "surname": 100, "forename": 100, "preferred": 100, "year": 20, "class": 40, "given_by": 100,
          "never_reason": 200}
_NOT_CONSENT = re.compile(r"\b(?:date|by|review|expir\w*|reason|never|notes?|comments?)\b", re.IGNORECASE)
CONSENT_VALUES: dict[str, ConsentState] = {
    **dict.fromkeys(("yes", "y", "granted", "given", "consent given", "consented", "agreed", "true", "1", "✓", "✔",
                     "opt in", "opted in"), ConsentState.GRANTED),
    **dict.fromkeys(("no", "n", "refused", "declined", "withdrawn", "false", "0", "not given", "no consent", "opt out",
                     "opted out"), ConsentState.REFUSED),
    **dict.fromkeys(("", "not asked", "not returned", "unknown", "pending", "awaiting", "n/a", "na", "-"),
                    ConsentState.NOT_ASKED),
}
_YES_NO = {"yes": True, "y": True, "true": True, "1": True, "no": False, "n": False, "false": False, "0": False, "": False}
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
MAX_COLUMNS = 200  # an MIS export with the columns we read has a few dozen
_YEAR = re.compile(r"^(?:year|yr|y|nc\s*year)?\s*(\d{1,2})$", re.IGNORECASE)


@dataclass(frozen=True)
class ImportRow:
    """One pupil as the file gives them; consent-related fields are None where the file has no such column."""

    line: int
    mis_id: str
    surname: str
    forename: str
    preferred: str
    year: str
    class_name: str
    consents: dict[str, ConsentState] = field(default_factory=dict)  # only the purposes the file has columns for
    given_by: str | None = None
    given_on: date | None = None
    review_on: date | None = None
    never: bool | None = None
    never_reason: str | None = None

    @property
    def key(self) -> str:
        """The id compared case-insensitively."""
        return self.mis_id.upper()


@dataclass(frozen=True)
class RowError:
    """A problem on one line of the file (line 1 is the header)."""

    line: int
    message: str


@dataclass
class Parsed:
    """The good rows, the errors, and which header each field was read from."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    total: int = 0  # data rows in the file, good or bad


def normalise_header(header: str) -> str:
    """'Legal Surname' -> 'legalsurname'."""
    return re.sub(r"[^a-z0-9]", "", header.lower())


def year_code(value: str) -> str:
    """'Year 4', 'Y4', '4' -> '4'; 'Reception' -> 'R'; 'Nursery' -> 'N'; others as given."""
    cleaned = " ".join(value.split())
    match = _YEAR.match(cleaned)
    if match:
        return str(int(match.group(1)))
    return {"reception": "R", "r": "R", "yr": "R", "rec": "R", "nursery": "N", "n": "N"}.get(cleaned.lower(), cleaned)


def parse_date(value: str) -> date:
    """dd/mm/yyyy (also dd-mm-yyyy, dd.mm.yyyy or yyyy-mm-dd); ValueError otherwise."""
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _columns(headers: list[str]) -> tuple[dict[str, int], dict[Purpose, int], list[RowError]]:
    norm = [normalise_header(h) for h in headers]
    fields: dict[str, int] = {}
    for name, aliases in FIELDS.items():
        index = next((norm.index(a) for a in aliases if a in norm and norm.index(a) not in fields.values()), None)
        if index is not None:
            fields[name] = index
    purposes: dict[Purpose, int] = {}
    errors: list[RowError] = []
    for index, header in enumerate(headers):
        if index in fields.values() or _NOT_CONSENT.search(header):
            continue
        found = purpose_in(header)
        if found is not None and found[0] in purposes:
            errors.append(RowError(1, f"Two columns for {PURPOSE_LABELS[found[0]]}: "
                                      f"\u201c{headers[purposes[found[0]]]}\u201d and \u201c{header}\u201d. Keep one."))
        elif found is not None:
            purposes[found[0]] = index
    errors += [RowError(1, f"Missing column: {FIELD_NAMES[name]}") for name in REQUIRED if name not in fields]
    return fields, purposes, errors


def _show(value: str) -> str:
    return value if len(value) <= 40 else value[:37] + "..."


def _row(
    line: int, cells: list[str], fields: dict[str, int], purposes: dict[Purpose, int], errors: list[RowError]
) -> ImportRow | None:
    def cell(name: str) -> str:
        index = fields.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    before = len(errors)
    values = {name: cell(name) for name in FIELDS}
    for name in REQUIRED:
        if not values[name]:
            errors.append(RowError(line, f"{FIELD_NAMES[name]} is empty"))
    for name, limit in LIMITS.items():
        if len(values[name]) > limit:
            errors.append(RowError(line, f"{FIELD_NAMES[name]} is longer than {limit} characters"))
    consents: dict[str, ConsentState] = {}
    for purpose, index in purposes.items():
        raw = cells[index].strip() if index < len(cells) else ""
        state = CONSENT_VALUES.get(" ".join(raw.lower().split()))
        if state is None:
            errors.append(RowError(line, f"{PURPOSE_LABELS[purpose]}: \u201c{_show(raw)}\u201d is not a consent value "
                                         "(use Yes, No or leave it empty for not asked)"))
        else:
            consents[purpose] = state
    dates: dict[str, date | None] = {}
    for name in ("given_on", "review_on"):
        try:
            dates[name] = parse_date(values[name]) if values[name] else None
        except ValueError:
            errors.append(RowError(line, f"{FIELD_NAMES[name]} \u201c{_show(values[name])}\u201d is not a date (use dd/mm/yyyy)"))
    never = _YES_NO.get(values["never"].lower()) if "never" in fields else None
    if "never" in fields and never is None:
        errors.append(RowError(line, f"Never publish \u201c{_show(values['never'])}\u201d should be Yes or No"))
    if never and not values["never_reason"]:
        errors.append(RowError(line, "Never publish is Yes but there is no reason (e.g. looked-after child, court order)"))
    if len(errors) > before:
        return None
    return ImportRow(
        line=line, mis_id=values["mis_id"], surname=values["surname"], forename=values["forename"], preferred=values["preferred"],
        year=year_code(values["year"]), class_name=values["class"], consents=consents,
        given_by=values["given_by"] if "given_by" in fields else None, given_on=dates.get("given_on"),
        review_on=dates.get("review_on"), never=never,
        never_reason=values["never_reason"] if never else ("" if never is not None else None),
    )


def parse_csv(text: str) -> Parsed:
    """Every row checked; a row with any problem is left out and reported. Cells are kept as text, never evaluated."""
    first = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    parsed = Parsed()
    if first.count(delimiter) >= MAX_COLUMNS:
        parsed.errors.append(RowError(1, f"The file has {first.count(delimiter) + 1:,} columns; I read at most {MAX_COLUMNS}. "
                                         "Export only the columns needed"))
        return parsed
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        _read(reader, parsed)
    except csv.Error:  # a cell over the csv module's limit (131,072 characters): usually a quote left open
        parsed.errors.append(RowError(reader.line_num, "A cell is far too long: is a quote (\") left open? "
                                                       "Nothing after this line was read"))
    return parsed


def _read(reader: _csv.Reader, parsed: Parsed) -> None:
    headers = next(reader, None)
    if not headers or not any(h.strip() for h in headers):
        parsed.errors.append(RowError(1, "The file is empty: the first line should be the column headings"))
        return
    fields, purposes, parsed.errors = _columns([h.strip() for h in headers])
    parsed.columns = {name: headers[i].strip() for name, i in fields.items()}
    parsed.columns.update({p.value: headers[i].strip() for p, i in purposes.items()})
    if parsed.errors:
        return
    seen: dict[str, int] = {}
    id_column = fields["mis_id"]
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        parsed.total += 1
        mis_id = cells[id_column].strip() if id_column < len(cells) else ""
        seen_on = seen.setdefault(mis_id.upper(), line) if mis_id else line
        if seen_on != line:
            parsed.errors.append(RowError(line, f"MIS ID \u201c{_show(mis_id)}\u201d is also on line {seen_on}"))
        row = _row(line, cells, fields, purposes, parsed.errors)
        if row is not None and seen_on == line:
            parsed.rows.append(row)
