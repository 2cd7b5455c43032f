"""user/info entries as rows, and rows as PostgreSQL COPY text."""

from conftest import sample_json
from followers.services.sync_rows import copy_lines, follower_row, user_info_rows


def test_a_batch_splits_into_subscribed_rows_unfollowed_openids_and_tag_ids():
    entries = sample_json("api/user_info_batchget_response_legacy.json")["user_info_list"]
    entries[0]["tagid_list"] = [2, "101", "not a tag"]

    batch = user_info_rows([*entries, {"subscribe": 1}])  # an entry without an openid is skipped

    assert [row[0] for row in batch.rows] == [entries[0]["openid"]]
    assert batch.gone == ["otvxTs_JZ6SEiP0imdhpi50fuSZg"]
    assert batch.rows[0][7] == (2, 101) and batch.tagids == {2, 101}


def test_a_row_takes_the_qr_scene_string_or_id_and_wechats_limits():
    row = follower_row(
        {
            "openid": "o1",
            "subscribe": 1,
            "subscribe_time": "1382694957",
            "qr_scene": 98765,
            "qr_scene_str": "",
            "remark": "r" * 40,
        }
    )
    assert row == ("o1", "", "", "98765", "", "r" * 30, 1382694957, ())
    assert follower_row({"openid": "o2", "subscribe": 1, "subscribe_time": 0, "qr_scene_str": "store_1"})[3:7] == (
        "store_1",
        "",
        "",
        None,
    )


def test_copy_lines_escape_what_copy_would_misread():
    rows = [
        ("o1", "", "ADD_SCENE_SEARCH", "", "zh_CN", "a\tb\\c\nd\re\x00f", None, ()),
        ("o2", "u2", "ADD_SCENE_QR_CODE", "promo_1", "en", "客户", 1382694957, (2, 101)),
    ]

    first, second = copy_lines(rows)

    assert first == "o1\t\tADD_SCENE_SEARCH\t\tzh_CN\ta\\tb\\\\c\\nd\\ref\t\\N\t{}\n"
    assert second == "o2\tu2\tADD_SCENE_QR_CODE\tpromo_1\ten\t客户\t1382694957\t{2,101}\n"
