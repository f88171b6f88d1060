"""Settings from environment variables and `.env` (pydantic-settings)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    dpo_aad_ids: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="DPO_AAD_IDS")
    timezone: str = Field("Europe/London", alias="TIMEZONE")
    scheduler_enabled: bool = Field(True, alias="SCHEDULER_ENABLED")
    sweep_seconds: int = Field(60, alias="REMINDER_SWEEP_SECONDS", ge=1)
    max_body_bytes: int = Field(256 * 1024, alias="MAX_BODY_BYTES", ge=1024)
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    # Where botbuilder fetches the channel's signing keys; tests point it at 127.0.0.1.
    openid_metadata_url: str = Field("", alias="TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL")

    @field_validator("allowed_tenants", "dpo_aad_ids", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> list[str]:
        return [item.lower() for item in _split(value)]

    @property
    def auth_enabled(self) -> bool:
        """Inbound JWT checks and outbound tokens are on once an app id is set."""
        return bool(self.app_id)

    def tenant_allowed(self, tenant_id: str | None) -> bool:
        """True when ALLOWED_TENANTS is empty or lists this tenant."""
        return not self.allowed_tenants or (tenant_id or "").lower() in self.allowed_tenants
