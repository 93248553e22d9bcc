"""services/notify/core/delivery.py: the webhook id, stable across releases."""

from services.notify.core.delivery import webhook_id


def test_webhook_id_is_stable_across_releases_and_distinct_per_office_step_and_channel() -> None:
    # pinned values: a receiver deduplicates by webhook-id, so an id that changed between two releases (another
    # namespace, another name layout) would make every replayed delivery look new to it
    assert webhook_id("e1", "polres-serang") == "msg_2e10a191d62d55c5aa7a6506883975a9"
    assert webhook_id("e1", "polres-serang", 1, 1) == "msg_5485f875499951978ef14f51e8a42740"
    ids = {
        webhook_id("e1", "polres-serang"),
        webhook_id("e1", "kanim-serang"),
        webhook_id("e1", "polres-serang", 1),
        webhook_id("e1", "polres-serang", 0, 1),
        webhook_id("e2", "polres-serang"),
    }
    assert len(ids) == 5 and all(i.startswith("msg_") for i in ids)
