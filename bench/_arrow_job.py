#!/usr/bin/env python3
"""The I/O floor of the benchmark pass: read and decode the columns the pass needs
(bench/_util.py, NEEDED_COLUMNS) from the same files, day by day, with pyarrow (Arrow C++, the
library intraday itself reads with), and do nothing with them. Tables are dropped as soon as they
are read, so memory stays at about one file's projected columns.

Usage: _arrow_job.py --lake DIR --days D1,D2,... [--threads 2]
Prints one JSON line: {"vm_hwm": bytes, "rows": rows decoded, "decoded_bytes": Arrow buffer bytes,
"seconds": time after the imports}.
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _util import NEEDED_COLUMNS, day_files, vm_hwm_bytes  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--days", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    import pyarrow as pa
    import pyarrow.parquet as pq

    started = time.perf_counter()  # after the imports: the job's own work
    pa.set_cpu_count(args.threads)
    pa.set_io_thread_count(args.threads)
    rows = decoded = 0
    for day in args.days.split(","):
        for table, columns in NEEDED_COLUMNS.items():
            for path in day_files(args.lake, table, day):
                # use_threads decodes columns / row groups in parallel on the 2-thread pool.
                data = pq.read_table(path, columns=columns, use_threads=True)
                rows += data.num_rows
                decoded += data.nbytes
                del data
    print(json.dumps({"vm_hwm": vm_hwm_bytes(), "rows": rows, "decoded_bytes": decoded,
                      "seconds": time.perf_counter() - started}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
