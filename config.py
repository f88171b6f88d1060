"""Settings from environment variables and `.env` (pydantic-settings)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.consent.pupil_files import TEAMS_FILE_HOSTS
from services.consent.purposes import DEFAULT_MONTHS, MAX_MONTHS, MIN_MONTHS, parse_months
from storage.consent_models import Purpose
from storage.models import MAX_ITEM_BYTES

AppType = Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"]


def _split(value: object) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return list(value) if isinstance(value, (list, tuple, set)) else []


class Settings(BaseSettings):
    """Everything the bot can be told; names match the README's settings table."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    app_id: str = Field("", validation_alias=AliasChoices("MicrosoftAppId", "MICROSOFT_APP_ID"))
    app_password: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppPassword", "MICROSOFT_APP_PASSWORD")
    )
    app_type: AppType = Field(
        "MultiTenant", validation_alias=AliasChoices("MicrosoftAppType", "MICROSOFT_APP_TYPE")
    )
    app_tenant_id: str = Field(
        "", validation_alias=AliasChoices("MicrosoftAppTenantId", "MICROSOFT_APP_TENANT_ID")
    )
    database_url: str = Field("sqlite+aiosqlite:///./data/custodian.db", alias="DATABASE_URL")
    host: str = Field("0.0.0.0", alias="HOST")
    port: int = Field(3978, alias="PORT")
    allowed_tenants: Annotated[list[str], NoDecode] = Field(
        default_factory=list, alias="ALLOWED_TENANTS"
    )
    # DPOs from the start: `tenant:aad` pairs (a bare Entra object id only with exactly one ALLOWED_TENANTS).
    dpo_aad_ids: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="DPO_AAD_IDS")
    timezone: str = Field("Europe/London", alias="TIMEZONE")
    # Whose bank holidays move a subject access request's due date: ENG, WLS, SCT or NIR.
    bank_holiday_region: Literal["ENG", "WLS", "SCT", "NIR"] = Field(default="ENG", alias="BANK_HOLIDAY_REGION")
    scheduler_enabled: bool = Field(True, alias="SCHEDULER_ENABLED")
    sweep_seconds: int = Field(60, alias="REMINDER_SWEEP_SECONDS", ge=1)
    reminder_max_attempts: int = Field(6, alias="REMINDER_MAX_ATTEMPTS", ge=1)
    sends_per_conversation: int = Field(7, alias="TEAMS_SENDS_PER_SECOND_PER_CONVERSATION", ge=1)
    sends_per_tenant: int = Field(50, alias="TEAMS_SENDS_PER_SECOND_PER_TENANT", ge=1)
    # Non-urgent reminders are held from QUIET_HOURS_START to QUIET_HOURS_END (school time) and at weekends.
    quiet_hours_start: int = Field(18, alias="QUIET_HOURS_START", ge=0, le=23)
    quiet_hours_end: int = Field(8, alias="QUIET_HOURS_END", ge=0, le=23)
    max_body_bytes: int = Field(256 * 1024, alias="MAX_BODY_BYTES", ge=1024)
    # Turns processed at once; more wait their turn (bounds memory and database connections under a burst).
    max_concurrent_turns: int = Field(8, alias="MAX_CONCURRENT_TURNS", ge=1)
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # Where botbuilder fetches the channel's signing keys; tests point it at 127.0.0.1.
    openid_metadata_url: str = Field("", alias="TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL")
    # Training organisers from the start, written like DPO_AAD_IDS; the hub's DPOs can grant more in chat.
    organiser_aad_ids: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="ORGANISER_AAD_IDS")
    # The data hub's own tenant: its DPOs may make training organisers; organisers there see every school's bookings.
    hub_tenant_id: str = Field(default="", alias="HUB_TENANT_ID")
    # Seed catalogue loaded when there are no training sessions yet; empty = data/training_sessions.json.
    training_seed_file: str = Field("", alias="TRAINING_SEED_FILE")
    # Photo consent: months a post may stay up before its housekeeping (remove-by) reminder, per purpose, written
    # `website:24,social_media:12`; a purpose not named keeps its default (services/consent/purposes.py).
    housekeeping_months: Annotated[dict[Purpose, int], NoDecode] = Field(default_factory=dict, alias="HOUSEKEEPING_MONTHS")
    # Deprecated one-purpose settings, still read (HOUSEKEEPING_MONTHS wins for a purpose it names); None = not set.
    housekeeping_months_website: int | None = Field(None, alias="HOUSEKEEPING_MONTHS_WEBSITE", ge=MIN_MONTHS, le=MAX_MONTHS)
    housekeeping_months_social_media: int | None = Field(None, alias="HOUSEKEEPING_MONTHS_SOCIAL_MEDIA", ge=MIN_MONTHS,
                                                         le=MAX_MONTHS)
    housekeeping_months_newsletter: int | None = Field(None, alias="HOUSEKEEPING_MONTHS_NEWSLETTER", ge=MIN_MONTHS,
                                                       le=MAX_MONTHS)
    housekeeping_months_press: int | None = Field(None, alias="HOUSEKEEPING_MONTHS_PRESS", ge=MIN_MONTHS, le=MAX_MONTHS)
    housekeeping_months_displays: int | None = Field(None, alias="HOUSEKEEPING_MONTHS_DISPLAYS", ge=MIN_MONTHS,
                                                     le=MAX_MONTHS)
    # Social media accounts: months between reviews of each account (4 = termly).
    account_review_months: int = Field(4, alias="ACCOUNT_REVIEW_MONTHS", ge=1, le=24)
    # Training that counts: months a data-protection session stays current (the ICO form asks about two years).
    training_valid_months: int = Field(24, alias="TRAINING_VALID_MONTHS", ge=1, le=120)
    # Largest pupil CSV accepted for import (bytes).
    pupil_import_max_bytes: int = Field(2 * 1024 * 1024, alias="PUPIL_IMPORT_MAX_BYTES", ge=1024)
    # Hosts a pupil file may be downloaded from (https only; "*.example.com" = any host under it).
    pupil_file_hosts: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(TEAMS_FILE_HOSTS),
                                                             alias="PUPIL_FILE_HOSTS")
    # Bot Framework endpoints (botbuilder's names); empty = the public cloud. Tests point them at 127.0.0.1.
    channel_token_issuer: str = Field("", alias="TO_BOT_FROM_CHANNEL_TOKEN_ISSUER")
    login_url: str = Field("", alias="TO_CHANNEL_FROM_BOT_LOGIN_URL")
    oauth_scope: str = Field("", alias="TO_CHANNEL_FROM_BOT_OAUTH_SCOPE")
    # false = MSAL trusts TO_CHANNEL_FROM_BOT_LOGIN_URL without asking Microsoft (private clouds and tests only).
    validate_authority: bool = Field(True, alias="VALIDATE_AUTHORITY")
    # Messages one person may send per minute before the bot asks them to slow down; 0 = no limit.
    rate_limit_per_minute: int = Field(30, alias="RATE_LIMIT_PER_MINUTE", ge=0)
    # App processes sharing one database: each keeps 1/INSTANCES of the send and message limits above.
    instances: Annotated[int, Field(ge=1, le=50)] = 1  # INSTANCES
    # Largest stored dialog state of one conversation; beyond it the conversation is ended (bot/compat/state_storage.py).
    max_conversation_state_bytes: int = Field(default=MAX_ITEM_BYTES, alias="MAX_CONVERSATION_STATE_BYTES", ge=64 * 1024)
    # Retention, applied daily at 02:30 UK time; counts of what went are kept in the audit trail.
    retention_bot_state_days: int = Field(30, alias="RETENTION_BOT_STATE_DAYS", ge=1)
    # Closed breaches are kept this long after closing (never less than 6 years by default).
    retention_closed_breach_years: int = Field(6, alias="RETENTION_CLOSED_BREACH_YEARS", ge=1)
    retention_removed_posts_days: int = Field(365, alias="RETENTION_REMOVED_POSTS_DAYS", ge=1)
    retention_consent_checks_days: int = Field(730, alias="RETENTION_CONSENT_CHECKS_DAYS", ge=1)
    retention_import_preview_days: int = Field(7, alias="RETENTION_IMPORT_PREVIEW_DAYS", ge=1)
    # The DPO's weekly digest: ISO weekday (1 = Monday) and hour, school time (held to school hours like other reminders).
    digest_weekday: int = Field(1, alias="DIGEST_WEEKDAY", ge=1, le=7)
    digest_hour: int = Field(8, alias="DIGEST_HOUR", ge=0, le=23)

    @field_validator("allowed_tenants", "dpo_aad_ids", "organiser_aad_ids", "pupil_file_hosts", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> list[str]:
        return [item.lower() for item in _split(value)]

    @field_validator("housekeeping_months", mode="before")
    @classmethod
    def _months(cls, value: object) -> object:
        return parse_months(value) if isinstance(value, str) else value

    @field_validator("hub_tenant_id", mode="before")
    @classmethod
    def _lower(cls, value: object) -> str:
        return str(value or "").strip().lower()

    @model_validator(mode="after")
    def _seeds_name_their_school(self) -> Settings:
        self.role_seeds(self.dpo_aad_ids)
        self.role_seeds(self.organiser_aad_ids)
        return self

    @model_validator(mode="after")
    def _all_housekeeping_months(self) -> Settings:
        old = {purpose: months for purpose, months in self._old_housekeeping_months().items() if months is not None}
        self.housekeeping_months = {**DEFAULT_MONTHS, **old, **self.housekeeping_months}
        return self

    def _old_housekeeping_months(self) -> dict[Purpose, int | None]:
        return {
            Purpose.WEBSITE: self.housekeeping_months_website, Purpose.SOCIAL_MEDIA: self.housekeeping_months_social_media,
            Purpose.NEWSLETTER: self.housekeeping_months_newsletter, Purpose.PRESS: self.housekeeping_months_press,
            Purpose.DISPLAYS: self.housekeeping_months_displays,
        }

    def deprecated_settings(self) -> list[str]:
        """The names of deprecated settings that are set (for a warning at start-up)."""
        return [f"HOUSEKEEPING_MONTHS_{purpose.value.upper()}" for purpose, months in self._old_housekeeping_months().items()
                if months is not None]

    def role_seeds(self, entries: list[str]) -> frozenset[tuple[str, str]]:
        """(tenant, aad) pairs from `tenant:aad` entries; a bare id belongs to the single ALLOWED_TENANTS."""
        pairs = set()
        for entry in entries:
            tenant, _, aad = entry.rpartition(":")
            if not tenant:
                if len(self.allowed_tenants) != 1:
                    raise ValueError(f"role seed {aad!r} names no school: write it as tenant-id:object-id "
                                     "(a bare object id is allowed only with exactly one ALLOWED_TENANTS)")
                tenant = self.allowed_tenants[0]
            pairs.add((tenant, aad))
        return frozenset(pairs)

    @property
    def auth_enabled(self) -> bool:
        """Inbound JWT checks and outbound tokens are on once an app id is set."""
        return bool(self.app_id)

    def share(self, limit: int) -> int:
        """This process's part of a limit that all INSTANCES keep together (0 = no limit stays 0)."""
        return max(1, limit // self.instances) if limit else 0

    def tenant_allowed(self, tenant_id: str | None) -> bool:
        """True when ALLOWED_TENANTS is empty or lists this tenant."""
        return not self.allowed_tenants or (tenant_id or "").lower() in self.allowed_tenants
