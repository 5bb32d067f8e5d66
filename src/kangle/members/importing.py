"""Member list import: upload → column mapping → dry run listing every bad row → all-or-nothing commit.

The commit runs as a background task (``tasks.commit_import``). It re-checks every row against the
database as it stands then (someone may have registered meanwhile), reporting progress as it goes; then it
writes the files a batch per short transaction (on SQLite a transaction holds the database's write lock,
and a 20,000-row import must not hold it for the whole write). A failure at any point removes what the
import had written (every file carries its import job), so nothing is left half-imported.
"""

from __future__ import annotations

import base64
import datetime as dt

from django.db import connection, transaction
from django.http import Http404
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from kangle.core import audit, crypto
from kangle.core.errors import NotAllowed, UserError
from kangle.core.masking import mask_phone
from kangle.core.timeutil import resolve_now
from kangle.members import permissions
from kangle.members.constants import ACTIVE_STATUSES, Channel, Status
from kangle.members.models import (
    Employer,
    EmployerPartyOrg,
    HouseholdMember,
    ImportJob,
    ImportStatus,
    Member,
    MemberWillingness,
    StatusChange,
)
from kangle.members.spreadsheets import (
    FormulaCell,
    Table,
    auto_mapping,
    read_table,
    table_from_json,
    table_to_json,
)
from kangle.members.validation import FIELD_LABELS, REQUIRED, Cleaned, Problem, Resolver, clean_member
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import in_scope

PROGRESS_EVERY = 500
BATCH = 1000
ERROR_SAMPLE = 1000
# The columns a list of imports shows; the upload, its parsed rows and the error sample stay in the database.
HEAVY_COLUMNS = ("content", "parsed", "errors")


def _seal(data: bytes) -> bytes:
    """Encrypt an uploaded file or its parsed rows at rest (they hold personal data)."""
    return crypto.encrypt(base64.b64encode(data).decode("ascii")).encode("ascii")


def _unseal(data) -> bytes:
    return base64.b64decode(crypto.decrypt(bytes(data).decode("ascii")))


def _check_actor(actor, org: OrgUnit, party_org: EmployerPartyOrg | None) -> None:
    if actor is None:  # the management command: the operator of the machine
        return
    if party_org is not None:
        if party_org.account_id != actor.pk or not permissions.is_collective_registrar(actor):
            raise NotAllowed()
        return
    if not in_scope(actor, org.path):
        raise Http404
    if not permissions.can_register_at(actor, org):
        raise NotAllowed()


def import_upload(
    *,
    actor,
    org: OrgUnit,
    filename: str,
    content: bytes,
    party_org: EmployerPartyOrg | None = None,
    now: dt.datetime | None = None,
) -> ImportJob:
    """Store an uploaded list and guess its column mapping; nothing is imported yet."""
    moment = resolve_now(now)
    _check_actor(actor, org, party_org)
    if org.kind not in (OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY):
        raise UserError("invalid_unit", gettext_lazy("Choose a street, area or community"), field="org")
    # Read outside any transaction: on SQLite a transaction holds the database's write lock, and no file
    # being parsed may hold up the worker or the other writers.
    table = read_table(content, filename, header_only=True)
    sealed = _seal(content)
    with transaction.atomic():
        return _store_upload(actor, org, filename, sealed, table, party_org, moment)


def _store_upload(actor, org, filename, sealed, table, party_org, moment) -> ImportJob:
    job = ImportJob.objects.create(
        org=org,
        created_by=actor,
        created_at=moment,
        filename=filename[:200],
        content=sealed,
        headers=table.headers,
        mapping=auto_mapping(table.headers),
        total_rows=0,
        party_org=party_org,
        channel=Channel.COLLECTIVE if party_org else Channel.IMPORT,
    )
    audit.record(
        actor=actor,
        verb="member_import.upload",
        obj=job,
        now=moment,
        details={"filename": job.filename},
    )
    return job


def mapping_problems(job: ImportJob, mapping: dict[str, int]) -> list[Problem]:
    problems = []
    for field, index in mapping.items():
        if field not in FIELD_LABELS or not isinstance(index, int) or not 0 <= index < len(job.headers):
            problems.append(
                Problem("mapping", gettext_lazy("Invalid column mapping: %(value)s"), {"value": field})
            )
    used = [i for i in mapping.values()]
    if len(used) != len(set(used)):
        problems.append(Problem("mapping", gettext_lazy("One column is mapped to several fields")))
    for field in REQUIRED:
        if field == "community" and job.org.kind == OrgKind.COMMUNITY:
            continue  # every row goes to the chosen community
        if field not in mapping:
            problems.append(
                Problem(
                    "mapping",
                    gettext_lazy("Missing required column: %(label)s"),
                    {"label": FIELD_LABELS[field]},
                )
            )
    return problems


def _joined(problems: list[Problem]):
    """The problems as one text, in the language of whoever reads it."""
    return lazy(lambda: "; ".join(p.text() for p in problems), str)()


def import_set_mapping(
    *, actor, job: ImportJob, mapping: dict[str, int], now: dt.datetime | None = None
) -> ImportJob:
    _check_actor(actor, job.org, job.party_org)
    if job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.DONE):
        raise UserError("import_started", gettext_lazy("This import has already been committed"), status=409)
    mapping = {k: v for k, v in mapping.items() if v is not None and v != ""}
    problems = mapping_problems(job, mapping)
    if problems:
        raise UserError(
            "bad_mapping",
            gettext_lazy("The column mapping is wrong: %(problems)s"),
            field="mapping",
            problems=_joined(problems),
        )
    ImportJob.objects.filter(pk=job.pk).update(mapping=mapping, status=ImportStatus.UPLOADED)
    job.mapping, job.status = mapping, ImportStatus.UPLOADED
    return job


def _raw_rows(job: ImportJob, table: Table):
    for number, values in table.rows:
        raw, formulas = {}, []
        for field, index in job.mapping.items():
            value = values[index] if index < len(values) else None
            if isinstance(value, FormulaCell):
                formulas.append(field)
                value = None
            raw[field] = value
        if "community" not in job.mapping and job.org.kind == OrgKind.COMMUNITY:
            raw["community"] = job.org
        if job.party_org_id:
            raw["employer"], raw["party_org"] = job.party_org.employer.name, job.party_org.name
        yield number, raw, formulas


def parse(job: ImportJob) -> Table:
    """The file's table: parsed from the upload at the dry run, reused (decrypted) by the commit."""
    if job.parsed:
        return table_from_json(_unseal(job.parsed).decode("utf-8"))
    return read_table(_unseal(job.content), job.filename)


def _error(number: int, problem: Problem) -> dict:
    """A row's problem as kept on the job (both languages: the preview is read later, by anyone)."""
    return {"row": number, "field": problem.field, "zh": problem.zh, "en": problem.en}


def _in_file_duplicates(cleaned: Cleaned, number: int, seen_phone: dict, seen_id: dict) -> list[Problem]:
    found = []
    for value, seen, field, message in (
        (cleaned.phone_hash, seen_phone, "phone", gettext_lazy("Same mobile number as row %(row)d")),
        (cleaned.id_hash, seen_id, "id_number", gettext_lazy("Same ID number as row %(row)d")),
    ):
        if not value:
            continue
        if value in seen:
            found.append(Problem(field, message, {"row": seen[value]}))
        else:
            seen[value] = number
    return found


def _without_existing_files(good: list[tuple[int, Cleaned]], errors: list[dict]) -> list[tuple[int, Cleaned]]:
    """Rows whose person already has an active file become errors (one query per thousand rows)."""
    clashes = _existing_hashes([c.phone_hash for _, c in good], [c.id_hash for _, c in good if c.id_hash])
    if not clashes:
        return good
    kept = []
    for number, cleaned in good:
        if cleaned.phone_hash in clashes or (cleaned.id_hash and cleaned.id_hash in clashes):
            field = "phone" if cleaned.phone_hash in clashes else "id_number"
            message = gettext_lazy(
                "This person already has an active file (same phone or ID); merge it on the workbench"
            )
            errors.append(_error(number, Problem(field, message)))
        else:
            kept.append((number, cleaned))
    return kept


def check_rows(
    job: ImportJob, *, progress=None, table: Table | None = None
) -> tuple[list[tuple[int, Cleaned]], list[dict]]:
    """Every row cleaned, or the reasons it is bad; duplicates within the file and against active files."""
    table = table or parse(job)
    problems = mapping_problems(job, job.mapping)
    if problems:
        return [], [_error(0, p) for p in problems]
    resolver = Resolver(job.org)
    good: list[tuple[int, Cleaned]] = []
    errors: list[dict] = []
    seen_phone: dict[str, int] = {}
    seen_id: dict[str, int] = {}
    formula = gettext_lazy("The %(label)s cell is a formula; paste it as a value")
    for count, (number, raw, formulas) in enumerate(_raw_rows(job, table), start=1):
        cleaned, row_problems = clean_member(raw, resolver)
        row_problems += [Problem(field, formula, {"label": FIELD_LABELS[field]}) for field in formulas]
        row_problems += _in_file_duplicates(cleaned, number, seen_phone, seen_id)
        if row_problems:
            errors.extend(_error(number, p) for p in row_problems)
        else:
            good.append((number, cleaned))
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    good = _without_existing_files(good, errors)
    errors.sort(key=lambda e: e["row"])
    return good, errors


def _existing_hashes(phones: list[str], ids: list[str]) -> set[str]:
    found: set[str] = set()
    active = Member.objects.filter(status__in=ACTIVE_STATUSES)
    for start in range(0, len(phones), BATCH):
        found.update(
            active.filter(phone_hash__in=phones[start : start + BATCH]).values_list("phone_hash", flat=True)
        )
    for start in range(0, len(ids), BATCH):
        found.update(active.filter(id_hash__in=ids[start : start + BATCH]).values_list("id_hash", flat=True))
    return found


def import_preview(*, actor, job: ImportJob, now: dt.datetime | None = None) -> ImportJob:
    """The dry run: every bad row with its reason; nothing is written but the job's result."""
    _check_actor(actor, job.org, job.party_org)
    if job.status in (ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.DONE):
        raise UserError("import_started", gettext_lazy("This import has already been committed"), status=409)
    # Parsed and checked outside any transaction; only the result is written, in one short statement.
    table = read_table(_unseal(job.content), job.filename)
    good, errors = check_rows(job, table=table)
    _keep_errors(job, errors)
    job.good_rows, job.status = len(good), ImportStatus.PREVIEWED
    job.total_rows = len(table.rows)
    job.processed = 0
    job.parsed = _seal(table_to_json(table).encode("utf-8"))
    job.save(
        update_fields=[
            "errors",
            "error_count",
            "bad_row_count",
            "good_rows",
            "status",
            "total_rows",
            "processed",
            "parsed",
        ]
    )
    return job


def _keep_errors(job: ImportJob, errors: list[dict]) -> None:
    """The first ERROR_SAMPLE errors and the counts of all of them."""
    job.errors = errors[:ERROR_SAMPLE]
    job.error_count = len(errors)
    job.bad_row_count = len({error["row"] for error in errors})


@transaction.atomic
def import_request_commit(*, actor, job: ImportJob, now: dt.datetime | None = None) -> ImportJob:
    """Queue the commit of a previewed job without errors (a background task; see tasks.commit_import)."""
    from kangle.members.tasks import commit_import

    _check_actor(actor, job.org, job.party_org)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportStatus.PREVIEWED:
        raise UserError(
            "not_previewed", gettext_lazy("Check the file (preview) before importing"), status=409
        )
    if job.error_count or job.errors:
        raise UserError(
            "has_errors",
            gettext_lazy("%(rows)d rows have errors; fix the file and upload it again"),
            status=409,
            rows=job.bad_row_count or len({e["row"] for e in job.errors}),
        )
    if not job.good_rows:
        raise UserError("nothing_to_import", gettext_lazy("There are no rows to import"), status=409)
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.QUEUED, processed=0)
    job.status = ImportStatus.QUEUED
    audit.record(actor=actor, verb="member_import.commit", obj=job, now=now, details={"rows": job.good_rows})
    job_id = str(job.pk)
    transaction.on_commit(lambda: commit_import.enqueue(job_id))
    return job


def _fail(job: ImportJob, message, errors: list[dict] | None = None, **params) -> None:
    """Mark the job failed with ``message`` kept in both languages (read later, by anyone)."""
    problem = Problem("file", message, params)
    if errors:
        _keep_errors(job, errors)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED,
        message=f"{problem.zh} / {problem.en}"[:500],
        errors=job.errors,
        error_count=job.error_count,
        bad_row_count=job.bad_row_count,
        finished_at=resolve_now(None),
    )


def run_commit(job_id, *, now: dt.datetime | None = None) -> ImportJob:
    """The body of the background task: re-check, then write everything or nothing."""
    moment = resolve_now(now)
    updated = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportStatus.QUEUED, ImportStatus.PREVIEWED]
    ).update(status=ImportStatus.RUNNING, processed=0)
    job = ImportJob.objects.select_related("org", "party_org__employer", "created_by").get(pk=job_id)
    if not updated:
        return job  # another worker has it, or it is finished

    def progress(count):
        ImportJob.objects.filter(pk=job.pk).update(processed=count)

    try:
        good, errors = check_rows(job, progress=progress)
        if errors:
            _fail(job, gettext_lazy("Rows are no longer valid; nothing was imported"), errors)
            return ImportJob.objects.get(pk=job.pk)
        created = write_members(job, good, moment)
    except Exception as exc:
        _undo_partial_import(job)
        _fail(
            job,
            gettext_lazy("The import failed; nothing was imported (%(error)s)"),
            error=type(exc).__name__,
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.DONE,
        processed=len(good),
        created_count=created,
        finished_at=resolve_now(None),
        message="",
        # The personal data of the upload is not kept once it has become member files.
        content=b"",
        parsed=b"",
    )
    return ImportJob.objects.get(pk=job.pk)


def _undo_partial_import(job: ImportJob) -> None:
    """Remove the files (and, by cascade, their skills, wishes, household and history) an interrupted
    import wrote in its earlier batches."""
    with transaction.atomic():
        Member.objects.filter(import_job=job).delete()


def _shared_records(rows: list[Cleaned]) -> tuple[dict[str, Employer], dict[str, EmployerPartyOrg]]:
    employer_names = {c.employer for c in rows if c.employer}
    employers = {e.name: e for e in Employer.objects.filter(name__in=employer_names)}
    missing = [Employer(name=n) for n in sorted(employer_names - set(employers))]
    for employer in Employer.objects.bulk_create(missing):
        employers[employer.name] = employer
    if any(e.pk is None for e in employers.values()):
        employers = {e.name: e for e in Employer.objects.filter(name__in=employer_names)}
    org_pairs = {(c.party_org, c.employer) for c in rows if c.party_org}
    party_orgs = {p.name: p for p in EmployerPartyOrg.objects.filter(name__in={n for n, _ in org_pairs})}
    new = [
        EmployerPartyOrg(name=n, employer=employers[e]) for n, e in sorted(org_pairs) if n not in party_orgs
    ]
    new = list({p.name: p for p in new}.values())
    EmployerPartyOrg.objects.bulk_create(new)
    party_orgs = {p.name: p for p in EmployerPartyOrg.objects.filter(name__in={n for n, _ in org_pairs})}
    return employers, party_orgs


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 - names come from the models, values are bound
        quote(model._meta.db_table), ", ".join(quote(c) for c in columns), ", ".join(["%s"] * len(columns))
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def write_members(job: ImportJob, good: list[tuple[int, Cleaned]], moment) -> int:
    """Insert every file, its skills, willingness, household and first history entry: one short
    transaction per batch. The caller removes the written batches if a later one fails."""
    rows = [c for _, c in good]
    with transaction.atomic():
        employers, party_orgs = _shared_records(rows)
    members = []
    for cleaned in rows:
        members.append(
            Member(
                community=cleaned.community,
                estate=cleaned.estate,
                microgrid=cleaned.microgrid,
                building_group=cleaned.building_group,
                org=cleaned.org,
                name=cleaned.name,
                gender=cleaned.gender,
                birth_year=cleaned.birth_year,
                phone=cleaned.phone,
                phone_hash=cleaned.phone_hash,
                phone_mask=mask_phone(cleaned.phone),
                id_number=cleaned.id_number,
                id_hash=cleaned.id_hash,
                address=cleaned.address,
                political_status=cleaned.political_status,
                employer=employers.get(cleaned.employer),
                party_org=party_orgs.get(cleaned.party_org),
                position=cleaned.position,
                skills_other=cleaned.skills_other,
                availability=cleaned.availability,
                hours_per_month=cleaned.hours_per_month,
                channel=job.channel,
                status=Status.PENDING,
                registered_at=moment,
                import_job=job,
            )
        )
    at = connection.ops.adapt_datetimefield_value(moment)
    reason = f"channel:{job.channel} import:{job.pk}"
    actor_id = job.created_by_id
    for start in range(0, len(members), BATCH):
        with transaction.atomic():
            _write_batch(
                job, members[start : start + BATCH], rows[start : start + BATCH], start, at, reason, actor_id
            )
    audit.record(
        actor=job.created_by,
        verb="member.import",
        obj=job,
        now=moment,
        details={"created": len(members), "filename": job.filename, "channel": job.channel},
    )
    return len(members)


def _write_batch(job, members, chunk_rows, start, at, reason, actor_id) -> None:
    chunk = Member.objects.bulk_create(members)
    skills, wishes, household, history = [], [], [], []
    for member, cleaned in zip(chunk, chunk_rows, strict=True):
        skills.extend((member.pk, pk) for pk in cleaned.skill_ids)
        wishes.extend((member.pk, a) for a in cleaned.aspect_ids)
        household.extend(
            HouseholdMember(member_id=member.pk, name=n, relation=r, birth_year=y)
            for n, r, y in cleaned.household
        )
        history.append((member.pk, "", Status.PENDING.value, reason, member.community_id, actor_id, at))
    # Plain multi-row inserts for the narrow child rows: the ORM's per-object overhead would dominate.
    _insert(Member.skills.through, ("member_id", "skill_id"), skills)
    _insert(MemberWillingness, ("member_id", "aspect_id"), wishes)
    HouseholdMember.objects.bulk_create(household)
    _insert(
        StatusChange,
        ("member_id", "from_status", "to_status", "reason", "community_id", "actor_id", "at"),
        history,
    )
    ImportJob.objects.filter(pk=job.pk).update(processed=start + len(chunk))
