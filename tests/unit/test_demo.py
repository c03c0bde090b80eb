"""`make demo` runs contractrules.demo: it must answer both bundled stories."""

import json

from contractrules import demo


def test_demo_prints_both_stories_as_tables(capsys, tmp_path):
    assert demo.main(["--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "website-care" in out and "freelance-job" in out
    assert "penalty:INV-2025-07" in out and "ENFORCEABLE" in out
    # ... and writes the agency story's report and letter in Spanish, printing their paths
    report, letter = (
        tmp_path / "website-care-informe-es.html",
        tmp_path / "website-care-requerimiento-INV-2025-07-es.md",
    )
    assert "645,42" in report.read_text(encoding="utf-8") and "Requerimiento de pago" in letter.read_text(
        encoding="utf-8"
    )
    flat = out.replace("\n", "")
    assert str(report) in flat and str(letter) in flat


def test_demo_json_gives_one_answer_per_story(capsys):
    assert demo.main(["--format", "json"]) == 0
    decoder, text, answers = json.JSONDecoder(), capsys.readouterr().out.strip(), []
    while text:
        answer, end = decoder.raw_decode(text)
        answers.append(answer)
        text = text[end:].strip()
    assert [a["contract"] for a in answers] == ["website-care-2025", "freelance-theme-build"]
    assert answers[0]["penalties"][-1]["total"] == "45.42"
