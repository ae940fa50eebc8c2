"""Runs entity batches through the Python durabletask SDK's own entity
executor: reads a JSON list of base64 EntityBatchRequests on stdin, runs
each on the example's counter entity written in Python, and prints the
base64 EntityBatchResults as a JSON list."""

import base64
import json
import logging
import sys

from durabletask import worker
from durabletask.internal import orchestrator_service_pb2 as pb


# The example's counter, as the Rust example writes it.
def counter(ctx, amount):
    operation = ctx.operation
    if operation == "add":
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise ValueError(f"{amount!r} is not a number")
        ctx.set_state((ctx.get_state(int) or 0) + amount)
        return None
    if operation == "reset":
        ctx.set_state(None)
        return None
    if operation == "get":
        return ctx.get_state(int) or 0
    raise ValueError(f"no operation {operation}")


class Stub:
    """Takes the result the worker would send to its sidecar."""

    def CompleteEntityTask(self, result):
        self.result = result


def main():
    logging.disable(logging.CRITICAL)
    runner = worker.TaskHubGrpcWorker()
    runner.add_entity(counter, "counter")
    out = []
    for text in json.load(sys.stdin):
        request = pb.EntityBatchRequest()
        request.ParseFromString(base64.b64decode(text))
        stub = Stub()
        runner._execute_entity_batch(request, stub, "")
        out.append(base64.b64encode(stub.result.SerializeToString()).decode())
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
