"""What readers see, checked without building: axis labels, number formats, variant titles."""

from __future__ import annotations

import re

import pytest

from kommunelab import fmt


def parse(label: str, locale: str) -> float:
    """A tick label back to a number: '1.234,5' (da) / '1,234.5' (en), a '%' or ' pct.' suffix dropped."""
    text = label.replace("\u2212", "-").removesuffix(" pct.").removesuffix("%")
    group, decimal = (".", ",") if locale == "da" else (",", ".")
    return float(text.replace(group, "").replace(decimal, "."))


def assert_labels_match_ticks(ticks: list[tuple[float, str]], locale: str, where: str) -> None:
    labels = [label for _, label in ticks]
    assert len(set(labels)) == len(labels), (where, labels)
    for position, label in ticks:
        assert parse(label, locale) == pytest.approx(position, abs=1e-9), (where, position, label)


@pytest.mark.slow
def test_tick_labels_of_every_profile_figure_match_their_positions(reference):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    from kommunelab import plots, profile
    from kommunelab.choices import municipality_labels

    plots.use_house_style()
    codes = sorted(municipality_labels(), key=int)
    assert len(codes) == 98
    for code in codes:
        p = profile.profile(code, 2021)
        for frame, column, decimals in ((profile.population_index(p), "index", 0),
                                        (profile.unemployment_per_100(p), "per_100", 1)):
            fig, ax = profile.trend_figure(frame, column, p, "en", ylabel="", title="", decimals=decimals)
            assert_labels_match_ticks(plots.tick_labels(ax), "en", f"{p.name} {column}")
            plots.number_axis(ax, "y", "da", decimals)  # the same ticks in Danish
            assert_labels_match_ticks(plots.tick_labels(ax), "da", f"{p.name} {column} (da)")
            plt.close(fig)


@pytest.mark.parametrize("locale", ["en", "da"])
def test_the_di_chart_labels_its_ticks_exactly(reference, locale):
    import matplotlib

    matplotlib.use("agg")
    import matplotlib.pyplot as plt

    from kommunelab import data, plots
    from kommunelab.analysis import di

    pub = di.published_inputs()
    for target in (37.5, 33.3, 45.0):
        fig, ax = di.iku_figure(data.iku_national(), pub["iku_national"], target, locale)
        assert_labels_match_ticks(plots.tick_labels(ax), locale, f"DI target {target}")
        plt.close(fig)


def test_no_minus_zero_and_small_p_values():
    assert fmt.number(-0.3) == "0" and fmt.number(-0.04, 1, "da") == "0,0" and fmt.number(-0.06, 1) == "-0.1"
    assert fmt.p_value(0.0004) == "p < 0.001" and fmt.p_value(0.0004, "da", bare=True) == "< 0,001"
    assert fmt.p_value(0.0423) == "p = 0.042"
    assert fmt.decimals_for([1.0, 1.25, 1.5]) == 2 and fmt.decimals_for([100, 102.5], least=0) == 1


def test_variant_titles_carry_their_label(reference):
    from kommunelab.manifest import load_manifest, variants

    manifest = load_manifest()
    english = {"language": "en"}
    profile = {v.params["municipality"]: v
               for v in variants(manifest["municipality_profile"], english, all_variants=True)}
    assert profile["270"].title == "Gribskov — municipality profile 2021"
    assert (profile["270"].label, profile["270"].detail) == ("Gribskov", "Region Hovedstaden")
    kora = variants(manifest["kora_civil_society"], {"breakdown": "size_class", **english})[0]
    assert kora.title.endswith("by size class") and kora.label == "size class"
    assert variants(manifest["ks_innovation_barometer"], english)[0].title == manifest["ks_innovation_barometer"].title
    # in the report's own language (Danish for the profiles and KORA, Norwegian for KS), from its catalog
    danish = {v.params["municipality"]: v for v in variants(manifest["municipality_profile"], all_variants=True)}
    assert danish["270"].title == "Gribskov — kommuneprofil 2021" and danish["270"].id == "language-da_municipality-270"
    kora_da = variants(manifest["kora_civil_society"], {"breakdown": "size_class"})[0]
    assert kora_da.title.endswith("efter størrelsesgruppe") and kora_da.label == "størrelsesgruppe"
    assert variants(manifest["ks_innovation_barometer"])[0].title == "KS: Innovasjonsbarometeret 2018"
    assert not re.search(r"\{\w+\}", profile["101"].title)
