"""Photo consent: pupils and their consents, checks kept as evidence, posts, removal tasks, import previews."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, delete, select, update
from sqlmodel import Field, SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import rowcount
from storage.types import id_field, ref_field, utc_field


class Purpose(StrEnum):
    """Where an image may be used (consent is given per purpose): one line each, the whole table of purposes.

    Each line: the value stored (at most 20 characters), the label cards and exports show, the words people use for
    it (a regular expression; tried in this order, so "social media" wins over the press's "media") and the months
    a post stays up before housekeeping asks about it (the default of HOUSEKEEPING_MONTHS)."""

    label: str
    words: str
    months: int

    # (The defaults only let mypy read `Purpose("website")`, a lookup by value, which never calls this.)
    def __new__(cls, value: str, label: str = "", words: str = "", months: int = 0) -> Purpose:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label, member.words, member.months = label, words, months
        return member

    WEBSITE = "website", "School website", r"(?:school )?web ?site|web", 24
    SOCIAL_MEDIA = ("social_media", "School social media",
                    r"social(?: media)?|facebook|twitter|instagram|tiktok|youtube|linkedin", 12)
    NEWSLETTER = "newsletter", "Newsletter / prospectus", r"newsletters?|prospectus(?:es)?", 24
    PRESS = "press", "Local press / media", r"(?:local )?press|(?:local )?(?:news)?papers?|(?:local )?media|tv", 12
    DISPLAYS = "displays", "Internal displays", r"(?:internal )?displays?|notice ?boards?", 12


class ConsentState(StrEnum):
    """What the parent/carer (or pupil) said for one purpose."""

    GRANTED = "granted"
    REFUSED = "refused"
    NOT_ASKED = "not_asked"


class RemovalReason(StrEnum):
    """Why a published image must come down."""

    WITHDRAWN = "withdrawn"  # consent withdrawn or refused after posting
    LEFT = "left"
    NEVER_PUBLISH = "never_publish"
    PUBLISHED_WITHOUT_CONSENT = "published_without_consent"


class Pupil(SQLModel, table=True):
    """A pupil of one school, as exported by the MIS."""

    # ix_pupil_changed: the newest change to a school's register, read before every search (services.consent.pupil_search).
    __table_args__ = (UniqueConstraint("tenant_id", "mis_id"), Index("ix_pupil_changed", "tenant_id", "updated_at"))

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    mis_id: str = Field(max_length=40)
    legal_surname: str = Field(max_length=100)
    forename: str = Field(max_length=100)
    preferred_name: str = Field(default="", max_length=100)
    year_group: str = Field(default="", max_length=20)
    class_name: str = Field(default="", max_length=40)
    never_publish: bool = False
    never_publish_reason: str = Field(default="", max_length=200)
    left_at: datetime | None = utc_field(nullable=True, default=None)
    created_at: datetime = utc_field()
    updated_at: datetime = utc_field()


class PupilConsent(SQLModel, table=True):
    """One pupil's consent for one purpose (a missing row means "not asked")."""

    __table_args__ = (UniqueConstraint("pupil_id", "purpose"),)

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    pupil_id: int = ref_field("pupil.id", index=True)
    purpose: str = Field(max_length=20)
    state: str = Field(default=ConsentState.NOT_ASKED, max_length=12)
    given_by: str = Field(default="", max_length=100)
    given_on: date | None = None
    review_on: date | None = None
    updated_at: datetime = utc_field()
    updated_by: str = Field(default="", max_length=64)  # aad id, or "import:<id>"


class ConsentCheck(SQLModel, table=True):
    """Evidence: who checked which pupils for which purpose, the answer, and when."""

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    checked_by: str = Field(max_length=64)
    purpose: str = Field(max_length=20)
    pupil_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # [{"pupil_id": 1, "ok": true, "reason": "ok"}, ...]
    results: list[dict[str, object]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    allowed: bool = False
    at: datetime = utc_field(index=True)
    post_id: int | None = ref_field(default=None)


class Post(SQLModel, table=True):
    """An image posted after an allowed check, with its housekeeping (remove-by) date."""

    __table_args__ = (Index("ix_post_live", "tenant_id", "removed_at", "remove_by"),)

    id: int | None = id_field()
    tenant_id: str = Field(max_length=64)
    check_id: int = ref_field("consentcheck.id")
    purpose: str = Field(max_length=20)
    account: str = Field(default="", max_length=100)
    account_id: int | None = ref_field("social_account.id", default=None, index=True)  # a registered account
    account_other: bool = False  # posted to an account that isn't in the register: shown to the DPO
    description: str = Field(default="", max_length=200)
    link: str = Field(default="", max_length=500)
    posted_by: str = Field(max_length=64)
    posted_at: datetime = utc_field()
    remove_by: datetime = utc_field()
    extension_reason: str = Field(default="", max_length=200)
    removed_at: datetime | None = utc_field(nullable=True, default=None)
    removed_by: str | None = Field(default=None, max_length=64)


class PostPupil(SQLModel, table=True):
    """A pupil shown in a post."""

    post_id: int = ref_field("post.id", primary_key=True)
    pupil_id: int = ref_field("pupil.id", primary_key=True, index=True)
    tenant_id: str = Field(max_length=64)


class RemovalTask(SQLModel, table=True):
    """An image that must come down (one open task per post; post_id is empty for images posted outside the register)."""

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    post_id: int | None = ref_field("post.id", default=None, index=True)
    purpose: str = Field(max_length=20)
    reason: str = Field(max_length=30)
    pupil_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    assignee: str = Field(max_length=64)  # the poster, or the DPO who recorded it
    place: str = Field(default="", max_length=500)  # for images posted outside the register: link or account
    published_at: datetime | None = utc_field(nullable=True, default=None)
    opened_at: datetime = utc_field()
    opened_by: str = Field(max_length=64)
    done_at: datetime | None = utc_field(nullable=True, default=None)
    done_by: str | None = Field(default=None, max_length=64)
    kept_reason: str = Field(default="", max_length=200)  # settled by "Keep with a reason" (else the image came down)


class PupilImport(SQLModel, table=True):
    """A CSV import awaiting Apply or Cancel; the file text is cleared once it is decided."""

    id: int | None = id_field()
    tenant_id: str = Field(index=True, max_length=64)
    uploaded_by: str = Field(max_length=64)
    file_name: str = Field(default="", max_length=200)
    content: str = Field(default="", sa_column=Column(Text, nullable=False))
    summary: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    error_count: int = 0
    state: str = Field(default="preview", max_length=12)  # preview | applied | cancelled
    created_at: datetime = utc_field()
    decided_at: datetime | None = utc_field(nullable=True, default=None)


async def purge_removed_posts(session: AsyncSession, tenant_id: str, cutoff: datetime) -> int:
    """Delete one school's posts taken down before `cutoff` and their pupil links (removal tasks stay)."""
    gone = select(col(Post.id)).where(col(Post.tenant_id) == tenant_id, col(Post.removed_at) < cutoff)
    await session.execute(update(RemovalTask).where(col(RemovalTask.post_id).in_(gone)).values(post_id=None))
    await session.execute(delete(PostPupil).where(col(PostPupil.post_id).in_(gone)))
    result = await session.execute(delete(Post).where(col(Post.id).in_(gone)))
    return rowcount(result)


async def purge_consent_checks(session: AsyncSession, tenant_id: str, cutoff: datetime) -> int:
    """Delete one school's consent checks made before `cutoff`, except those behind a post still kept."""
    kept = select(col(Post.check_id)).where(col(Post.tenant_id) == tenant_id)
    result = await session.execute(delete(ConsentCheck).where(
        col(ConsentCheck.tenant_id) == tenant_id, col(ConsentCheck.at) < cutoff, col(ConsentCheck.id).not_in(kept)))
    return rowcount(result)


async def forget_stale_import_files(session: AsyncSession, tenant_id: str, cutoff: datetime) -> int:
    """Cancel one school's import previews left undecided since before `cutoff`, forgetting the uploaded file."""
    result = await session.execute(update(PupilImport).where(
        col(PupilImport.tenant_id) == tenant_id, col(PupilImport.state) == "preview", col(PupilImport.created_at) < cutoff,
    ).values(state="cancelled", content=""))
    return rowcount(result)
