"""Runs recorded requests through azure-functions-durable 2.x, the Python
SDK that the Functions host runs (built on durabletask-python): each
orchestrator request through its DurableFunctionsWorker's
`execute_orchestration_request`, each entity batch through
`execute_entity_batch_request`, the entry points its function handles
call with the trigger's base64. Reads {"orchestrations": [{"case",
"request"}], "entityBatches": [base64]} on stdin; prints the base64
responses, in order, as {"orchestrations": [...], "entityBatches": [...]}.
An exception is reported as {"error": text} in the response's place."""

import json
import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from azure.durable_functions.worker import DurableFunctionsWorker  # noqa: E402

import entity_batches  # noqa: E402
import record_histories  # noqa: E402


def orchestrator(case, request):
    if case == "non_determinism":
        return record_histories.chaining_changed
    started = [e for e in list(request.pastEvents) + list(request.newEvents) if e.HasField("executionStarted")]
    return record_histories.ORCHESTRATORS[started[-1].executionStarted.name]


def attempt(run):
    try:
        return run()
    except Exception as error:  # reported, so the Rust test names it
        return {"error": f"{type(error).__name__}: {error}"}


def main():
    import base64
    from durabletask.internal import orchestrator_service_pb2 as pb

    logging.disable(logging.CRITICAL)
    given = json.load(sys.stdin)
    out = {"orchestrations": [], "entityBatches": []}
    # One worker per orchestrator: a worker refuses a second function under
    # one name, and non_determinism registers other code as `chaining`.
    workers = {}
    for step in given["orchestrations"]:
        request = pb.OrchestratorRequest()
        request.ParseFromString(base64.b64decode(step["request"]))
        function = orchestrator(step["case"], request)
        worker = workers.setdefault(function, DurableFunctionsWorker())
        out["orchestrations"].append(
            attempt(lambda: worker.execute_orchestration_request(function, step["request"])))
    worker = DurableFunctionsWorker()
    for batch in given["entityBatches"]:
        out["entityBatches"].append(
            attempt(lambda: worker.execute_entity_batch_request(entity_batches.counter, batch)))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
