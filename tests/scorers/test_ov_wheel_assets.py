"""Loading emotion-wheel folders: files, formats, the organisers' reading rules, errors, cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from scorers.errors import AssetError
from scorers.wheel import WHEEL_NAMES, load_wheel_set
from scorers.wheel.assets import wheel_set_from_files

DEMO = Path(__file__).resolve().parents[2] / "fixtures" / "wheels" / "demo"

SMALL_WHEEL = "level1,level2,level3\n Joy ,Glad,Cheerful\n,,Merry\n,Calm,Serene\nSad,Down,Low\n"
SMALL_SYNONYM = (
    "word_run1,synonym_run1,word_run2,synonym_run2\n"
    "Cheerful,\"upbeat, Chirpy\",merry,['jolly']\n"
    "low,blue,glad,\n"
)
SMALL_FORMAT = (
    "name,format\n"
    "cheerful,\"cheerful,cheerfully\"\n"
    "upbeat,upbeats\n"
    "blue,\"blue,bluer\"\n"
    "jolly,jolliest\n"
)


def write_folder(folder: Path, wheels: dict[str, str] | None = None, *,
                 synonym: str = SMALL_SYNONYM, word_forms: str = SMALL_FORMAT) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "format.csv").write_text(word_forms, encoding="utf-8")
    (folder / "synonym.csv").write_text(synonym, encoding="utf-8")
    for name in WHEEL_NAMES:
        (folder / f"{name}.csv").write_text((wheels or {}).get(name, SMALL_WHEEL), encoding="utf-8")
    return folder


def csv_to_xlsx(source: Path, target: Path) -> None:
    import csv

    book = openpyxl.Workbook()
    sheet = book.active
    with source.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            sheet.append([cell if cell != "" else None for cell in row])
    book.save(target)


def test_small_folder_follows_the_organisers_rules(tmp_path: Path) -> None:
    wheel_set = load_wheel_set(write_folder(tmp_path / "w"))
    wheel = wheel_set.wheels[0]
    # forward-filled, lower-cased and stripped
    assert wheel.tree == {"joy": {"glad": ["cheerful", "merry"], "calm": ["serene"]},
                          "sad": {"down": ["low"]}}
    # level2: a level-1 word falls in its alphabetically first level-2 child
    assert wheel.categories("level2")["joy"] == "calm"
    assert wheel.categories("level1")["serene"] == "joy"
    # base words map to themselves; forms to their base words; case kept as written
    assert wheel_set.word_forms["cheerfully"] == ("cheerful",)
    assert wheel_set.word_forms["cheerful"] == ("cheerful", "cheerful")
    # synonyms of all runs merged, lower-cased
    assert wheel_set.synonyms["chirpy"] == frozenset({"cheerful"})
    assert wheel_set.synonyms["jolly"] == frozenset({"merry"})
    assert wheel_set.synonyms["glad"] == frozenset({"glad"})
    assert wheel_set.candidates("jolliest") == ("merry",)
    assert wheel_set.candidates("unknown") == ()


def test_a_word_placed_twice_takes_its_last_place(tmp_path: Path) -> None:
    wheel = "level1,level2,level3\nJoy,Glad,Merry\nSad,Down,Merry\n"
    wheel_set = load_wheel_set(write_folder(tmp_path / "w", {"wheel2": wheel}))
    assert wheel_set.wheels[1].categories("level1")["merry"] == "sad"
    assert wheel_set.wheels[1].categories("level2")["merry"] == "down"


def test_alphabetically_first_candidate_present_in_the_wheel_wins(tmp_path: Path) -> None:
    # 'upbeat' and 'blue' are synonyms of wheel words; 'both' lists both
    forms = SMALL_FORMAT + "both,\"upbeat,blue\"\n"
    folder = write_folder(tmp_path / "w", word_forms=forms)
    wheel_set = load_wheel_set(folder)
    # 'upbeat' as a word form belongs to base words 'both' and 'upbeat'
    assert wheel_set.candidates("upbeat") == ("cheerful",)
    assert wheel_set.candidates("blue") == ("low",)
    label_map = wheel_set.label_map("level1")
    assert label_map.category("cheerfully", 0) == "joy"
    assert label_map.category("bluer", 0) == "sad"


def test_xlsx_and_csv_folders_load_the_same(tmp_path: Path) -> None:
    xlsx = tmp_path / "xlsx"
    xlsx.mkdir()
    shutil.copy(DEMO / "format.csv", xlsx / "format.csv")
    for name in ("synonym", *WHEEL_NAMES):
        csv_to_xlsx(DEMO / f"{name}.csv", xlsx / f"{name}.xlsx")
    from_csv = load_wheel_set(DEMO)
    from_xlsx = load_wheel_set(xlsx)
    assert from_xlsx.files["synonym"] == "synonym.xlsx"
    assert from_xlsx.digest != from_csv.digest
    assert from_xlsx.word_forms == from_csv.word_forms
    assert from_xlsx.synonyms == from_csv.synonyms
    assert [w.tree for w in from_xlsx.wheels] == [w.tree for w in from_csv.wheels]
    for level in ("level1", "level2"):
        assert (from_xlsx.label_map(level).codes == from_csv.label_map(level).codes).all()


def test_the_organisers_xlsx_wins_over_a_csv_copy(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "w")
    other = tmp_path / "other.csv"
    other.write_text("level1,level2,level3\nCalm,Calm,Serene\nJoy,Glad,Cheerful\nSad,Down,Low\n"
                     ",,Merry\n", encoding="utf-8")
    csv_to_xlsx(other, folder / "wheel3.xlsx")
    wheel_set = load_wheel_set(folder)
    assert wheel_set.files["wheel3"] == "wheel3.xlsx"
    assert wheel_set.wheels[2].categories("level1")["serene"] == "calm"
    assert wheel_set.wheels[1].categories("level1")["serene"] == "joy"


def test_loaded_sets_are_cached_by_content(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "w")
    first = load_wheel_set(folder)
    assert load_wheel_set(folder) is first
    assert load_wheel_set(write_folder(tmp_path / "copy")) is first
    (folder / "wheel5.csv").write_text(SMALL_WHEEL + "Sad,Down,Gloomy\n", encoding="utf-8")
    changed = load_wheel_set(folder)
    assert changed is not first
    assert "gloomy" in changed.wheels[4].words
    built = first.label_map("level1")
    assert first.label_map("level1") is built  # built once per wheel set and level


def test_missing_folder_and_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(AssetError, match="does not exist"):
        load_wheel_set(tmp_path / "nowhere")
    folder = write_folder(tmp_path / "w")
    (folder / "wheel4.csv").unlink()
    (folder / "synonym.csv").unlink()
    with pytest.raises(AssetError) as caught:
        load_wheel_set(folder)
    assert str(caught.value) == (
        f"emotion-wheel folder '{folder}' lacks synonym.xlsx or synonym.csv; "
        "wheel4.xlsx or wheel4.csv"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"synonym": "word_run1,synonym_run1\nhappy,glad\n"},
         "synonym.csv, line 2, column 'word_run1': 'happy' is not a word of any wheel"),
        ({"synonym": "word_run1,synonym_run1\n,glad\n"},
         "synonym.csv, line 2: the 'word_run1' cell is empty"),
        ({"synonym": "word,synonym\nmerry,glad\n"},
         "synonym.csv: no 'word_run1' column; the sheet needs word_runN/synonym_runN pairs"),
        ({"synonym": "word_run1,synonym_run2\nmerry,glad\n"},
         "synonym.csv: no column 'synonym_run1' (the header holds word_run1, synonym_run2)"),
        ({"word_forms": "name,forms\nmerry,merrier\n"},
         "format.csv: no column 'format' (the header holds name, forms)"),
        ({"word_forms": "name,format\n,merrier\n"},
         "format.csv, line 2: the 'name' cell is empty"),
        ({"wheel": "level1,level2,level3\n,Glad,Merry\n"},
         "wheel1.csv, line 2: level1, level2 and level3 must all be set on the first row "
         "(later rows may leave a cell empty to repeat the one above)"),
        ({"wheel": "level1,level2\nJoy,Glad\n"},
         "wheel1.csv: no column 'level3' (the header holds level1, level2)"),
        ({"wheel": "level1,level2,level3\n"}, "wheel1.csv holds no wheel rows"),
        ({"wheel": ""}, "wheel1.csv is empty; it needs a header row"),
    ],
)
def test_malformed_files_raise_asset_errors(tmp_path: Path, change: dict[str, str],
                                            message: str) -> None:
    wheels = {"wheel1": change["wheel"]} if "wheel" in change else None
    kwargs = {k: v for k, v in change.items() if k in ("synonym", "word_forms")}
    folder = write_folder(tmp_path / "w", wheels, **kwargs)
    with pytest.raises(AssetError) as caught:
        load_wheel_set(folder)
    assert str(caught.value) == message


def test_unreadable_files_raise_asset_errors(tmp_path: Path) -> None:
    contents = {p.name: p.read_bytes() for p in write_folder(tmp_path / "w").iterdir()}
    with pytest.raises(AssetError, match="format.csv is not UTF-8 text"):
        wheel_set_from_files({**contents, "format.csv": b"name,format\n\xff\n"})
    del contents["wheel2.csv"]
    with pytest.raises(AssetError, match="not a readable .xlsx workbook"):
        wheel_set_from_files({**contents, "wheel2.xlsx": b"PK\x03\x04 broken"})


def test_explanations_say_why_a_label_is_dropped(tmp_path: Path) -> None:
    forms = SMALL_FORMAT + "orphan,orphans\n"
    other = "level1,level2,level3\nSad,Down,Low\n"
    wheel_set = load_wheel_set(write_folder(tmp_path / "w", {"wheel2": other, "wheel4": other},
                                            word_forms=forms))
    label_map = wheel_set.label_map("level2")
    assert label_map.explain("orphans") == {
        "wheel1": None, "wheel2": None, "wheel3": None, "wheel4": None, "wheel5": None,
        "dropped": "its base words have no synonym candidates"}
    assert label_map.explain("cheerfully") == {
        "wheel1": "glad", "wheel2": None, "wheel3": "glad", "wheel4": None, "wheel5": "glad",
        "dropped": "no synonym candidate in wheel2 or wheel4"}
    assert label_map.explain("bluer") == {
        "wheel1": "down", "wheel2": "down", "wheel3": "down", "wheel4": "down", "wheel5": "down"}
    assert label_map.explain("Cheerfully") == {"dropped": "not in the word-form table"}
    explained = label_map.explain("bluer")
    assert label_map.explain("bluer") is explained  # a known word form: the same dict every time
