"""Feasibility counts that resist differencing (MIN-10, MIN-11): record keys, cell-key
perturbation, masking and rounding, the guard against nested queries, the daily budget, the
objectors left out, and the DPO's log page."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone, translation

from eds_portal.models import AuditEvent
from tests.conftest import login
from tests.warehouse import factories as wf
from warehouse import count_guard, disclosure, objections
from warehouse.cohort import CohortCriteria, Refusal, feasibility_count, feasibility_visits
from warehouse.count_guard import Box, Candidate, Entry, decide
from warehouse.models import (
    RECORD_KEY_MODULUS,
    CountOutcome,
    FeasibilityCountLog,
    Person,
    PersonRecordKey,
)

DBS = ["default", "warehouse", "vault"]
pytestmark = pytest.mark.django_db(databases=DBS)
THRESHOLD = 11


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"  # the assertions read the English msgids
    with translation.override("en"):
        yield


@pytest.fixture
def town():
    """Forty women and thirty men in Gironde, twelve women in the Rhône; one episode each."""
    bordeaux, lyon = wf.care_site(1, "33"), wf.care_site(2, "69")
    people = []
    for i in range(40):
        people.append(wf.person(sex="F", born=1950 + i))
        wf.visit(people[-1], on=date(2025, 3, 1 + i % 28), site=bordeaux, icpc2="R78")
    for i in range(30):
        people.append(wf.person(sex="M", born=1950 + i))
        wf.visit(people[-1], on=date(2025, 3, 1 + i % 28), site=bordeaux, icpc2="H71")
    for i in range(12):
        people.append(wf.person(sex="F", born=1960 + i))
        wf.visit(people[-1], on=date(2025, 4, 1 + i), site=lyon, icpc2="R78")
    return people


def true_persons(criteria: CohortCriteria) -> int:
    return disclosure.measure(feasibility_visits(criteria)).persons


# --- The perturbation table, masking and rounding ---------------------------------------------


def test_the_published_table_is_symmetric_zero_mean_and_bounded():
    table = dict(disclosure.PERTURBATION_TABLE)
    assert sum(table.values()) == disclosure.TABLE_SLOTS
    assert all(table[value] == table[-value] for value in table)
    assert sum(value * width for value, width in table.items()) == 0
    assert disclosure.MAX_PERTURBATION == 3
    # Over every cell key, each count gets exactly the published distribution.
    for count in (11, 12, 250, 9999):
        seen: dict[int, int] = {}
        for cell_key in range(RECORD_KEY_MODULUS):
            value = disclosure.perturbation(count, cell_key)
            seen[value] = seen.get(value, 0) + 1
        scale = RECORD_KEY_MODULUS // disclosure.TABLE_SLOTS
        assert seen == {value: width * scale for value, width in table.items()}


def test_display_zero_mask_rounding_and_floor():
    show = {"threshold": THRESHOLD, "base": 5}
    assert disclosure.display(0, 123, **show) == "0"
    for count in range(1, THRESHOLD):
        for cell_key in (0, 1, 2000, 4095):
            assert disclosure.display(count, cell_key, **show) == "< 11"
    for count in (11, 12, 13, 57, 1000, 123456):
        for cell_key in range(0, RECORD_KEY_MODULUS, 37):
            shown = int(disclosure.display(count, cell_key, **show))
            assert shown % 5 == 0
            assert shown >= 15  # never a figure that looks like a small count
            assert abs(shown - count) <= disclosure.MAX_PERTURBATION + 2 or count < 15
    # Deterministic: the same count and cell key always show the same figure.
    assert disclosure.display(1000, 77, **show) == disclosure.display(1000, 77, **show)
    # Base 1 shows the perturbed count itself, base 10 rounds coarser.
    assert disclosure.display(1000, 77, threshold=11, base=1) == str(
        1000 + disclosure.perturbation(1000, 77)
    )
    assert int(disclosure.display(1000, 77, threshold=11, base=10)) % 10 == 0
    assert disclosure.smallest_shown(11, 5) == 15
    assert disclosure.smallest_shown(11, 1) == 11
    assert disclosure.smallest_shown(10, 5) == 10


# --- Record keys and cell keys ------------------------------------------------------------------


def test_record_keys_are_drawn_lazily_in_range_and_never_change(town):
    assert PersonRecordKey.objects.count() == 0
    true_persons(CohortCriteria())
    keys = dict(PersonRecordKey.objects.values_list("person_id", "record_key"))
    assert set(keys) == set(Person.objects.values_list("person_id", flat=True))
    assert all(0 <= key < RECORD_KEY_MODULUS for key in keys.values())
    assert len(set(keys.values())) > 20  # random, not a constant
    newcomer = wf.person(sex="F", born=1990)
    wf.visit(newcomer, on=date(2025, 3, 3), site=None)
    true_persons(CohortCriteria())
    again = dict(PersonRecordKey.objects.values_list("person_id", "record_key"))
    assert newcomer.person_id in again
    assert {pk: again[pk] for pk in keys} == keys


def test_cell_keys_are_the_sums_of_record_keys(town):
    true_persons(CohortCriteria())
    keys = dict(PersonRecordKey.objects.values_list("person_id", "record_key"))
    measured = disclosure.measure(feasibility_visits(CohortCriteria(sex="M")))
    men = [p.person_id for p in Person.objects.filter(gender_concept_id=8507)]
    assert measured.persons == 30
    assert measured.person_cell_key == sum(keys[pk] for pk in men) % RECORD_KEY_MODULUS
    visits = feasibility_visits(CohortCriteria(sex="M")).values_list(
        "visit_occurrence_id", "person_id"
    )
    assert measured.visit_cell_key == (
        sum((keys[pid] + vid) % RECORD_KEY_MODULUS for vid, pid in visits) % RECORD_KEY_MODULUS
    )
    assert sum(measured.person_sketch) == 30
    assert len(measured.person_sketch) == disclosure.SKETCH_BUCKETS


def test_same_set_same_answer_through_other_criteria_different_set_other_key(town):
    # Gironde and association 1 select the same persons: same cell key, same figure.
    by_departement = disclosure.measure(feasibility_visits(CohortCriteria(departements=("33",))))
    by_association = disclosure.measure(feasibility_visits(CohortCriteria(associations=(1,))))
    assert by_departement.person_cell_key == by_association.person_cell_key
    first = feasibility_count(CohortCriteria(departements=("33",)))
    second = feasibility_count(CohortCriteria(associations=(1,)))
    assert (first.persons, first.visits) == (second.persons, second.visits)
    # Another set has an unrelated key: make it certain by fixing two record keys.
    PersonRecordKey.objects.filter(person_id=town[0].person_id).update(record_key=1)
    PersonRecordKey.objects.filter(person_id=town[1].person_id).update(record_key=2)
    women = disclosure.measure(feasibility_visits(CohortCriteria(sex="F", departements=("33",))))
    fewer = disclosure.measure(
        feasibility_visits(CohortCriteria(sex="F", departements=("33",), age_min=1951))
    )
    assert women.persons != fewer.persons or women.person_cell_key != fewer.person_cell_key


# --- The guard, as a pure function ------------------------------------------------------------


def box(sites=(1,), sexes=(8532,), days=(20250101, 20251231), ages=(0, 120), kinds=(1,)):
    return Box(
        sites=frozenset(sites),
        kinds=frozenset(kinds),
        sexes=frozenset(sexes),
        days=days,
        ages=ages,
        icpc2=None,
        icd10=None,
    )


def sketch_of(members: range | list[int]) -> list[int]:
    sketch = [0] * disclosure.SKETCH_BUCKETS
    for member in members:
        sketch[member % disclosure.SKETCH_BUCKETS] += 1
    return sketch


_pk = iter(range(1, 10_000))


def entry(members, the_box, digest=None, shown="100") -> Entry:
    members = list(members)
    return Entry(
        pk=next(_pk),
        criteria_hash=digest or f"h{len(members)}-{id(the_box)}",
        persons=len(members),
        visits=len(members),
        persons_fresh=True,
        visits_fresh=True,
        person_sketch=sketch_of(members),
        visit_sketch=sketch_of(members),
        box=the_box,
        shown_persons=shown,
        shown_visits=shown,
    )


def candidate(members, the_box, digest="new") -> Candidate:
    members = list(members)
    measured = disclosure.Measure(
        persons=len(members),
        visits=len(members),
        person_cell_key=0,
        visit_cell_key=0,
        person_sketch=sketch_of(members),
        visit_sketch=sketch_of(members),
    )
    return Candidate(digest, measured, the_box, "fresh-p", "fresh-v")


def test_nested_pair_with_a_small_difference_is_refused():
    everyone = entry(range(500), box(sexes=(8507, 8532)))
    women_but_four = candidate(range(4, 500), box(sexes=(8532,)))
    decision = decide(women_but_four, [everyone], threshold=THRESHOLD)
    assert decision.outcome == CountOutcome.REFUSED_DIFFERENCING
    assert (decision.rule, decision.related) == ("nested", (everyone.pk,))
    # A difference of the threshold or more is fine, and so is a difference of zero.
    assert (
        decide(candidate(range(11, 500), box()), [everyone], threshold=THRESHOLD).outcome
        == CountOutcome.SHOWN
    )
    assert (
        decide(candidate(range(500), box()), [everyone], threshold=THRESHOLD).outcome
        == CountOutcome.SHOWN
    )


def test_pairs_that_are_not_nested_are_caught_by_their_sketches():
    # Padded so that neither box contains the other; the persons still differ by three.
    earlier = entry(range(300), box(days=(20250101, 20250630)))
    padded = candidate(range(3, 300), box(sites=(1, 2), days=(20250201, 20251231)))
    decision = decide(padded, [earlier], threshold=THRESHOLD)
    assert (decision.outcome, decision.rule) == (CountOutcome.REFUSED_DIFFERENCING, "close")
    # Different sets of similar size are not "close".
    other = candidate(range(1000, 1297), box(sites=(2,)))
    assert decide(other, [earlier], threshold=THRESHOLD).outcome == CountOutcome.SHOWN


def test_two_masked_counts_are_never_compared():
    small = entry(range(6), box(), shown="< 11")
    smaller = candidate(range(2), box(ages=(10, 20)))
    assert decide(smaller, [small], threshold=THRESHOLD).outcome == CountOutcome.SHOWN


def test_whole_minus_two_disjoint_parts_is_refused_in_every_order():
    whole = (range(200), box(ages=(0, 120)))
    young = (range(0, 100), box(ages=(0, 39)))
    old = (range(103, 200), box(ages=(61, 120)))  # leaves three persons aged 40 to 60
    for order in ((whole, young, old), (young, old, whole), (whole, old, young)):
        window = [entry(*pair) for pair in order[:2]]
        decision = decide(candidate(*order[2]), window, threshold=THRESHOLD)
        assert (decision.outcome, decision.rule) == (CountOutcome.REFUSED_DIFFERENCING, "split")


def test_whole_minus_three_large_disjoint_parts_is_refused_in_every_order():
    # Gironde: the men, the women below 40 and the women above 60 leave four women of 40 to 60.
    whole = (range(400), box(sexes=(8507, 8532), ages=(0, 120)))
    men = (range(0, 200), box(sexes=(8507,), ages=(0, 120)))
    young_women = (range(200, 300), box(sexes=(8532,), ages=(0, 39)))
    old_women = (range(304, 400), box(sexes=(8532,), ages=(61, 120)))
    corners = [whole, men, young_women, old_women]
    for last in range(4):
        window = [entry(*corner) for i, corner in enumerate(corners) if i != last]
        decision = decide(candidate(*corners[last]), window, threshold=THRESHOLD)
        assert (decision.outcome, decision.rule) == (CountOutcome.REFUSED_DIFFERENCING, "split")
    # Four parts leaving eleven or more are fine.
    window = [entry(*corner) for corner in corners[:3]]
    fine = candidate(range(315, 400), box(sexes=(8532,), ages=(61, 120)))
    assert decide(fine, window, threshold=THRESHOLD).outcome == CountOutcome.SHOWN


def test_inclusion_exclusion_square_is_refused_in_every_order():
    # A: everyone in the box; B: the young; C: the men; D: young men. A - B - C + D = 2.
    young, men = set(range(0, 120)), set(range(100, 300))
    everyone = set(range(302))
    corners = {
        "A": (everyone, box(sexes=(8507, 8532), ages=(0, 120))),
        "B": (young, box(sexes=(8507, 8532), ages=(0, 39))),
        "C": (men, box(sexes=(8507,), ages=(0, 120))),
        "D": (young & men, box(sexes=(8507,), ages=(0, 39))),
    }
    assert len(everyone) - len(young) - len(men) + len(young & men) == 2
    for last in "ABCD":
        window = [entry(sorted(m), b) for name, (m, b) in corners.items() if name != last]
        members, the_box = corners[last]
        decision = decide(candidate(sorted(members), the_box), window, threshold=THRESHOLD)
        assert decision.outcome == CountOutcome.REFUSED_DIFFERENCING, last
        assert decision.rule in {"square", "split"}, last


def test_identical_criteria_give_the_earlier_answer_while_the_data_barely_moves():
    earlier = entry(range(400), box(), digest="same", shown="400")
    moved_a_little = candidate(range(403), box(), digest="same")
    decision = decide(moved_a_little, [earlier], threshold=THRESHOLD)
    assert decision.outcome == CountOutcome.REPEATED
    assert (decision.shown_persons, decision.shown_visits) == ("400", "400")
    moved_a_lot = candidate(range(420), box(), digest="same")
    decision = decide(moved_a_lot, [earlier], threshold=THRESHOLD)
    assert decision.outcome == CountOutcome.SHOWN
    assert decision.shown_persons == "fresh-p"


def test_box_inclusion_and_disjointness():
    wide = box(sites=(1, 2), sexes=(8507, 8532), days=(20250101, 20251231), ages=(0, 99))
    narrow = box(sites=(1,), days=(20250301, 20250331), ages=(20, 30))
    assert count_guard.contains(wide, narrow)
    assert not count_guard.contains(narrow, wide)
    assert count_guard.contains(narrow, None)  # an empty count is inside everything
    coded = Box(**{**narrow.__dict__, "icpc2": ("R78",)})
    broader_codes = Box(**{**wide.__dict__, "icpc2": ("R7",)})
    assert count_guard.contains(broader_codes, coded)
    assert not count_guard.contains(coded, narrow)  # codes restrict
    assert count_guard.disjoint(narrow, box(ages=(31, 40)))
    assert not count_guard.disjoint(wide, narrow)
    assert Box.from_json(wide.as_json()) == wide


# --- The guard through the real count ---------------------------------------------------------


def test_a_nested_count_differing_by_a_few_persons_is_refused_even_to_another_user(town, make_user):
    from eds_portal.roles import Role

    alice, bob = make_user(Role.RESEARCHER), make_user(Role.RESEARCHER)
    gironde = feasibility_count(CohortCriteria(departements=("33",)), by=alice)
    assert gironde.persons not in ("", "< 11")
    # All the Gironde but its six oldest (three women, three men born 1950 to 1952): 64 of 70.
    trimmed = CohortCriteria(departements=("33",), age_max=2025 - 1953)
    assert true_persons(trimmed) == 70 - 3 - 3  # the three oldest men go too
    refused = feasibility_count(trimmed, by=bob)
    assert (refused.persons, refused.visits, refused.refused) == ("", "", Refusal.DIFFERENCING)
    assert "too close to a count already given" in refused.message
    log = FeasibilityCountLog.objects.order_by("pk").last()
    assert (log.outcome, log.rule, log.user_id) == (
        CountOutcome.REFUSED_DIFFERENCING,
        "nested",
        bob.pk,
    )
    assert (log.persons, log.shown_persons) == (64, "")


def test_asking_again_gives_the_same_answer(town, researcher):
    first = feasibility_count(CohortCriteria(sex="M"), by=researcher)
    newcomer = wf.person(sex="M", born=1999)
    wf.visit(newcomer, on=date(2025, 3, 9), site=None)
    second = feasibility_count(CohortCriteria(sex="M"), by=researcher)
    assert (second.persons, second.visits) == (first.persons, first.visits)
    assert second.repeated
    assert FeasibilityCountLog.objects.order_by("pk").last().outcome == CountOutcome.REPEATED


def test_the_page_shows_the_refusal_without_figures(client, researcher, town):
    login(client, researcher)
    client.post("/warehouse/feasibility/", {"departements": ["33"]})
    response = client.post(
        "/warehouse/feasibility/",
        {"departements": ["33"], "age_max": str(2025 - 1953)},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "too close to a count already given" in html
    assert "<dd>" not in html
    events = AuditEvent.objects.filter(action="feasibility.counted").order_by("seq")
    assert [e.after["refused"] for e in events] == ["", "differencing"]
    assert events.last().after["persons"] == ""
    api = client.post(
        "/api/v1/warehouse/feasibility/",
        {"departements": ["33"], "age_max": 2025 - 1952},
        content_type="application/json",
    )
    assert api.status_code == 409
    assert api.json()["refused"] == "differencing"
    assert "persons" not in api.json()


# --- Daily budget -----------------------------------------------------------------------------


def test_beyond_the_daily_budget_counts_are_refused_everywhere(client, researcher, town, settings):
    settings.EDS_FEASIBILITY_DAILY_BUDGET = 2
    login(client, researcher)
    assert client.post("/warehouse/feasibility/", {"sex": "F"}).status_code == 200
    api = client.post(
        "/api/v1/warehouse/feasibility/", {"sex": "M"}, content_type="application/json"
    )
    assert api.status_code == 200
    page = client.post("/warehouse/feasibility/", {"age_min": "30"})
    assert page.status_code == 429
    assert "used up today" in page.content.decode()
    fragment = client.post("/warehouse/feasibility/", {"age_min": "30"}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 429
    assert fragment.content.decode().lstrip().startswith('<section id="feasibility-result"')
    assert "used up today" in fragment.content.decode()
    refused = client.post(
        "/api/v1/warehouse/feasibility/", {"age_min": 30}, content_type="application/json"
    )
    assert refused.status_code == 429
    assert refused.json() == {"detail": refused.json()["detail"], "refused": "budget"}
    assert "used up today" in refused.json()["detail"]
    assert 0 < int(refused["Retry-After"]) <= 24 * 3600
    # Every count is audited, the refused ones too, with nothing but what was shown.
    events = AuditEvent.objects.filter(action="feasibility.counted").order_by("seq")
    assert [e.after["refused"] for e in events] == ["", "", "budget", "budget", "budget"]
    assert all(e.after["persons"] == "" for e in events[2:])
    outcomes = list(FeasibilityCountLog.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes[2:] == [CountOutcome.REFUSED_BUDGET] * 3
    # Refusals do not use the budget up further; tomorrow counts again.
    assert count_guard.counts_today(researcher.pk) == 2
    FeasibilityCountLog.objects.update(counted_at=timezone.now() - timedelta(days=1))
    assert client.post("/warehouse/feasibility/", {"age_min": "30"}).status_code == 200


# --- Objectors --------------------------------------------------------------------------------


def test_warehouse_wide_objectors_are_not_counted_and_withdrawal_counts_them_again(
    town, secretariat, django_capture_on_commit_callbacks
):
    from access.opposition import actions
    from tests.access.helpers import online_request, warehouse_person

    identity = warehouse_person()
    objector = wf.person(sex="F", born=1961)
    Person.objects.filter(pk=objector.pk).update(person_source_value=identity.person_key)
    wf.visit(objector, on=date(2025, 3, 2), site=None)
    assert true_persons(CohortCriteria()) == 83
    request = online_request()
    officer = _officer()
    with django_capture_on_commit_callbacks(execute=True):
        actions.confirm_match(
            by=officer, request=request, person_key=identity.person_key, method="x"
        )
    assert objections.flagged_keys() == {identity.person_key}
    assert true_persons(CohortCriteria()) == 82
    assert true_persons(CohortCriteria(sex="F", age_min=60, age_max=70)) == true_persons(
        CohortCriteria(sex="F", age_min=60, age_max=70, departements=("33", "69"))
    )
    with django_capture_on_commit_callbacks(execute=True):
        actions.record_withdrawal(
            by=secretariat, objection=request, channel="post", received_at=timezone.now()
        )
    assert objections.flagged_keys() == frozenset()
    assert true_persons(CohortCriteria()) == 83


def test_an_objection_to_some_projects_only_does_not_stop_the_counting(
    researcher, django_capture_on_commit_callbacks
):
    from access.opposition import actions
    from tests.access.helpers import online_request, project, warehouse_person

    identity = warehouse_person()
    request = online_request(scope="projects", projects=[project(researcher)])
    with django_capture_on_commit_callbacks(execute=True):
        actions.confirm_match(
            by=_officer(), request=request, person_key=identity.person_key, method="x"
        )
    assert objections.flagged_keys() == frozenset()


def test_a_rolled_back_objection_flags_nobody(django_capture_on_commit_callbacks):
    from django.db import transaction

    from access.opposition import actions
    from tests.access.helpers import online_request, warehouse_person

    identity = warehouse_person()
    request = online_request()
    officer = _officer()

    def confirm_then_fail():
        with transaction.atomic():
            actions.confirm_match(
                by=officer, request=request, person_key=identity.person_key, method="x"
            )
            raise RuntimeError("rolled back")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        confirm_then_fail()
    assert callbacks == []
    assert objections.flagged_keys() == frozenset()


def test_the_nightly_task_makes_the_flags_equal_to_the_register(django_capture_on_commit_callbacks):
    from access.opposition import actions
    from access.tasks import sync_objection_flags_task
    from eds_portal.celery import app
    from tests.access.helpers import online_request, warehouse_person

    identity = warehouse_person()
    # The after-commit flag was lost (a crash between the two commits): the task catches up.
    actions.confirm_match(
        by=_officer(), request=online_request(), person_key=identity.person_key, method="x"
    )
    objections.flag_objection(["stale-key-of-a-withdrawn-objection"])
    summary = sync_objection_flags_task()
    assert summary == {"flagged": 1, "unflagged": 1, "total": 1}
    assert objections.flagged_keys() == {identity.person_key}
    assert AuditEvent.objects.filter(
        action="opposition.register_read", after__purpose__startswith="feasibility"
    ).exists()
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "access.tasks.sync_objection_flags_task" in tasks


def test_flag_unflag_and_sync_are_idempotent():
    assert objections.flag_objection(["a", "b"]) == 2
    assert objections.flag_objection(["a"]) == 0
    assert objections.unflag_objection(["a", "zzz"]) == 1
    assert objections.sync_objections(["b", "c"]).flagged == 1
    assert objections.flagged_keys() == {"b", "c"}


def _officer():
    from eds_portal.roles import Role
    from tests.factories import UserFactory

    return UserFactory(roles=(Role.IDENTITY_OFFICER,))


# --- The DPO's page ---------------------------------------------------------------------------


def _log(user_id, *, minutes_ago, outcome=CountOutcome.SHOWN, the_box=None, rule="", **extra):
    # Early this morning (local time), whatever the time the test runs: one user-day.
    morning = count_guard._start_of_today(timezone.now()) + timedelta(hours=2)
    return FeasibilityCountLog.objects.create(
        user_id=user_id,
        counted_at=morning - timedelta(minutes=minutes_ago),
        via="page",
        criteria=extra.pop("criteria", {"sex": "F"}),
        criteria_hash=f"h{minutes_ago}",
        outcome=outcome,
        rule=rule,
        persons=None if outcome == CountOutcome.REFUSED_BUDGET else 4242,
        visits=None if outcome == CountOutcome.REFUSED_BUDGET else 4343,
        shown_persons="" if outcome != CountOutcome.SHOWN else "4245",
        shown_visits="" if outcome != CountOutcome.SHOWN else "4345",
        box=the_box.as_json() if the_box else None,
        **extra,
    )


def test_dpo_sees_counts_by_user_and_day_bursts_and_refusals(
    client, dpo, researcher, django_assert_max_num_queries
):
    # The researcher narrows in: six counts, each inside the previous one, minutes apart.
    for step in range(6):
        _log(researcher.pk, minutes_ago=30 - step, the_box=box(ages=(step, 120 - step)))
    _log(
        researcher.pk,
        minutes_ago=2,
        outcome=CountOutcome.REFUSED_DIFFERENCING,
        rule="nested",
        related=[1],
        criteria={"departements": ["33"], "age_max": 72},
    )
    _log(researcher.pk, minutes_ago=1, outcome=CountOutcome.REFUSED_BUDGET, rule="budget")
    login(client, dpo)
    with django_assert_max_num_queries(12):
        response = client.get("/warehouse/feasibility/log/")
    assert response.status_code == 200
    html = response.content.decode()
    [row] = [row for row, user in response.context["day_rows"] if user == researcher]
    assert (row.counts, row.shown, row.refused_differencing, row.refused_budget) == (8, 6, 1, 1)
    assert row.nested == 5
    assert row.burst
    assert "Burst" in html
    assert "Rita Researcher" in html
    assert "nested in an earlier count" in html
    assert "Départements of the associations: 33" in html
    assert "<caption>" in html
    # What users were shown, never the true figures.
    assert "4242" not in html
    assert "4343" not in html
    assert client.get("/warehouse/feasibility/log/", {"days": "0"}).status_code == 400


@pytest.mark.parametrize(
    "persona",
    [
        "researcher",
        "secretariat",
        "commission_member",
        "patient_representative",
        "chair",
        "identity_officer",
        "data_steward",
        "auditor",
        "outsider",
    ],
    indirect=True,
)
def test_the_log_page_is_refused_to_every_other_role(client, persona):
    login(client, persona)
    assert client.get("/warehouse/feasibility/log/").status_code == 403


def test_the_log_page_needs_a_login(client):
    response = client.get("/warehouse/feasibility/log/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_dpo_has_the_log_in_the_navigation(client, dpo, researcher):
    login(client, dpo)
    assert 'href="/warehouse/feasibility/log/"' in client.get("/").content.decode()
    login(client, researcher)
    assert 'href="/warehouse/feasibility/log/"' not in client.get("/").content.decode()
