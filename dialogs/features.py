"""Every flow the bot offers, in the order their intents are tried."""

from __future__ import annotations

from dialogs.accounts.register import accounts_feature
from dialogs.breach.dpo import breach_feature
from dialogs.breach.drills import drill_feature
from dialogs.breach.ico_pack import ico_pack_feature
from dialogs.calendar.term_dates import calendar_feature
from dialogs.consent.check import consent_feature
from dialogs.dpo.queries import dpo_queries_feature
from dialogs.dpo.roles import roles_feature
from dialogs.feature import Deps, Feature, Intent
from dialogs.reminders.actions import reminders_feature
from dialogs.sar.requests import sar_feature
from dialogs.status import status_feature
from dialogs.training.book import training_feature
from dialogs.training.record import training_record_feature

BREACH_INTENT = Intent(
    "breach.report",
    ("report a breach", "report breach", "data breach", "breach"),
    private=True,
)
CONSENT_INTENT = Intent(
    "consent.check",
    ("check consent", "photo consent", "consent check", "consent"),
    private=True,
)
TRAINING_INTENT = Intent("training.book", ("book training", "training", "book a session"))


def build_features(deps: Deps) -> list[Feature]:
    """The features in intent priority order; `status` gathers from all of them."""
    features = [
        roles_feature(deps),
        dpo_queries_feature(deps),
        ico_pack_feature(deps),
        breach_feature(deps, BREACH_INTENT),
        drill_feature(deps),
        sar_feature(deps),
        consent_feature(deps, CONSENT_INTENT),
        training_record_feature(deps),
        training_feature(deps, TRAINING_INTENT),
        accounts_feature(deps),
        calendar_feature(deps),
    ]
    return [status_feature(deps, features), reminders_feature(deps, features), *features]
