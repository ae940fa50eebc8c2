"""Draws bench/results/latency.svg from bench/results/latest.json (run by bench/run
in bench/.venv): latency percentiles per server, one panel per workload and
connection count, on a log scale; bars span the rounds' min-max."""

import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["svg.fonttype"] = "none"  # text stays text: a smaller, searchable SVG
matplotlib.rcParams["svg.hashsalt"] = "rusty_function"  # stable ids between runs
import matplotlib.pyplot as plt  # noqa: E402

PERCENTILES = [("p50", "50"), ("p90", "90"), ("p99", "99"), ("p999", "99.9")]
COLOURS = {"rusty_function": "#b7410e", "hyper": "#4a4a4a", "go": "#00add8", "python": "#3572a5"}


def main(source, target):
    data = json.load(open(source))
    connections = data["config"]["connections"]
    workloads = list(data["workloads"])
    figure, axes = plt.subplots(len(workloads), len(connections), figsize=(5 * len(connections), 3.8 * len(workloads)),
                                squeeze=False, sharey=True)
    x = list(range(len(PERCENTILES)))
    for row, workload in enumerate(workloads):
        for column, conns in enumerate(connections):
            ax = axes[row][column]
            for name in (n for n in data["servers"] if workload in data["results"][n]):
                runs = data["results"][name][workload][str(conns)]
                medians = [statistics.median(runs[key]) / 1000 for key, _ in PERCENTILES]
                low = [m - min(runs[key]) / 1000 for m, (key, _) in zip(medians, PERCENTILES)]
                high = [max(runs[key]) / 1000 - m for m, (key, _) in zip(medians, PERCENTILES)]
                ax.errorbar(x, medians, yerr=[low, high], marker="o", capsize=3,
                            label=data["labels"][name], color=COLOURS.get(name))
            ax.set_yscale("log")
            ax.set_xticks(x, [f"p{label}" for _, label in PERCENTILES])
            ax.set_title(f"{workload}, {conns} connection{'s' if conns != 1 else ''}", fontsize=10)
            ax.grid(True, which="both", axis="y", alpha=0.3)
            if column == 0:
                ax.set_ylabel("latency (ms, log scale)")
    axes[0][0].legend(fontsize=8)
    m = data["machine"]
    figure.suptitle(f"Latency percentiles, lower is better ({m['nproc']} × {m['cpu']}, {m['date']})", fontsize=10)
    figure.tight_layout()
    figure.savefig(target, format="svg")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
