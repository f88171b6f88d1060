"""The practice breaches a drill can run: realistic school incidents, each as its reporter would tell it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scenario:
    """One practice breach: what the pretend reporter says, and the facts a DPO would find out."""

    key: str
    title: str
    reporter: str  # a made-up member of staff
    said: str  # the report, in the reporter's words
    facts: tuple[tuple[str, str], ...]
    words: tuple[str, ...]  # words that pick this scenario ("start a breach drill ransomware")
    # The same facts as a breach report's codes (services/breach/facts.py), for the drill's practice ICO pack.
    kind: str
    subjects: tuple[str, ...]
    people_count: int
    data_categories: tuple[str, ...]
    contained: str


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "sen_email", "Misdirected email with SEN data", "Sam Patel, Year 4 teacher (pretend)",
        "I've just emailed the SEN support plans for three of my pupils to the wrong parent. Autocomplete picked "
        "the wrong name. The parent has replied saying they got it.",
        (("What kind", "Sent to the wrong person"), ("Whose data", "Pupils (3)"),
         ("Data", "Special category: SEN and health needs"), ("Contained?", "Not yet: the parent still has it")),
        ("email", "sen", "misdirected", "wrong"),
        "wrong_person", ("pupils",), 3, ("basic", "special"), "no",
    ),
    Scenario(
        "stolen_laptop", "Stolen laptop", "Jo Reid, Deputy Head (pretend)",
        "My school laptop was stolen from my car overnight. It has the safeguarding log spreadsheet saved on the "
        "desktop. I'm not sure the disk is encrypted. I've reported it to the police.",
        (("What kind", "Lost or stolen device"), ("Whose data", "Pupils (about 40)"),
         ("Data", "Special category: safeguarding notes"), ("Contained?", "Not known: is the disk encrypted?")),
        ("laptop", "stolen", "theft", "device"),
        "lost_stolen", ("pupils",), 40, ("basic", "safeguarding", "special"), "no",
    ),
    Scenario(
        "ransomware", "Ransomware", "Alex Moore, School Business Manager (pretend)",
        "The office PCs show a message demanding payment and we can't open any files on the shared drive, "
        "including the MIS exports and staff HR folders. IT have unplugged the network.",
        (("What kind", "Cyber attack"), ("Whose data", "Pupils, parents and staff (about 600)"),
         ("Data", "Contact details, HR records, some health data"), ("Contained?", "Partly: network unplugged")),
        ("ransomware", "cyber", "hack", "hacked", "virus"),
        "cyber", ("pupils", "parents", "staff"), 600, ("basic", "special"), "partly",
    ),
    Scenario(
        "photo_no_consent", "Photo published without consent", "Chris Lee, PE teacher (pretend)",
        "I posted the sports day photos on the school Facebook page this morning. A parent has rung: her son is "
        "in one and he must never be published (he is looked after and his placement is confidential).",
        (("What kind", "Published without consent"), ("Whose data", "Pupils (1)"),
         ("Data", "Photo, school name; placement at risk"), ("Contained?", "Not yet: the post is still up")),
        ("photo", "facebook", "consent", "published", "social"),
        "published", ("pupils",), 1, ("basic", "safeguarding"), "no",
    ),
)
BY_KEY = {scenario.key: scenario for scenario in SCENARIOS}


def named_in(text: str) -> Scenario | None:
    """The scenario a request names ("start a breach drill: ransomware"), if any."""
    words = set(text.lower().replace(":", " ").split())
    return next((scenario for scenario in SCENARIOS if words & set(scenario.words)), None)
