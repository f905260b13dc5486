"""Example Airflow DAG: one newsbeam batch run per day, then a check of its _SUCCESS marker.

Needs apache-airflow and apache-airflow-providers-apache-beam on the scheduler (not newsbeam's own dependencies).
Copy it to your dags/ folder and set NEWSBEAM_HOME, LANDING and OUTPUT.
"""

import datetime as dt

from airflow import DAG
from airflow.providers.apache.beam.operators.beam import BeamRunPythonPipelineOperator
from airflow.sensors.filesystem import FileSensor

NEWSBEAM_HOME = "/opt/newsbeam"
LANDING = "/data/landing"
OUTPUT = "/data/newsbeam"

with DAG(
    dag_id="newsbeam_daily",
    schedule="15 2 * * *",
    start_date=dt.datetime(2024, 6, 1),
    catchup=True,  # backfills are safe: a rerun of a day rewrites byte-identical tables
    max_active_runs=1,  # days run in order, so each continues the stories of the day before
    default_args={"retries": 2, "retry_delay": dt.timedelta(minutes=10)},
) as dag:
    run = BeamRunPythonPipelineOperator(
        task_id="newsbeam",
        py_file=f"{NEWSBEAM_HOME}/pipelines/news_pipeline.py",
        py_interpreter=f"{NEWSBEAM_HOME}/.venv/bin/python",
        # No runner option: newsbeam's local runner (both cores, no download). For Dataflow, set
        # runner="DataflowRunner" and add project, region, temp_location and setup_file below.
        pipeline_options={
            "input": LANDING,
            "output": OUTPUT,
            "date": "{{ ds }}",
            "max_rejected_ratio": "0.2",
        },
    )
    done = FileSensor(task_id="success_marker", filepath=f"{OUTPUT}/_SUCCESS", poke_interval=30, timeout=600)
    run >> done
