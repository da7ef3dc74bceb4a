"""The presence instance id: stable across restarts, distinct for processes sharing a data directory."""
from plugins.presence import instance


def test_slots_are_exclusive_and_reclaimed(tmp_path):
    first = instance.claim(tmp_path, {})
    second = instance.claim(tmp_path, {})
    assert first.value != second.value
    value = first.value
    first.release()
    again = instance.claim(tmp_path, {})
    assert again.value == value          # a restart takes back the first free slot and its id
    again.release()
    second.release()


def test_explicit_instance_id(tmp_path):
    claimed = instance.claim(tmp_path, {"ORBITCHAT_INSTANCE_ID": "node-7"})
    assert claimed.value == "node-7"
    assert not (tmp_path / "presence").exists()


def test_unwritable_data_dir_still_gives_an_id(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    claimed = instance.claim(blocker, {})
    assert len(claimed.value) == 17
