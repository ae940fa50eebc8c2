"""Records orchestration histories with the Python durabletask SDK's own
executor: the reference orchestrations written in Python, run step by
step by a small in-memory backend (actions become history events,
activities run here). Prints, per case and step, the request and the
SDK's response as base64 protobuf, and the response in a normalized JSON
form that the Rust test compares against its own executor's."""

import base64
import json
import logging
import sys
from datetime import datetime, timedelta

from durabletask import task
from durabletask import worker
from durabletask.internal import helpers as ph
from durabletask.internal import orchestrator_service_pb2 as pb
from durabletask.serialization import DEFAULT_DATA_CONVERTER

T0 = datetime(2026, 11, 30, 12, 0, 0, 123456)


# The reference orchestrations, as the Rust example writes them.
def chaining(ctx, cities):
    cities = cities or ["Tokyo", "Seattle", "London"]
    out = []
    for city in cities[:3]:
        out.append((yield ctx.call_activity("say_hello", input=city)))
    return out


def chaining_changed(ctx, cities):
    yield ctx.call_activity("square", input=2)
    return "changed"


def fan_out_fan_in(ctx, n):
    n = 3 if n is None else n
    results = yield task.when_all([ctx.call_activity("square", input=i) for i in range(1, n + 1)])
    return sum(results)


def timer_then_activity(ctx, seconds):
    seconds = 30 if seconds is None else seconds
    yield ctx.create_timer(ctx.current_utc_datetime + timedelta(seconds=seconds))
    return (yield ctx.call_activity("say_hello", input="after-timer"))


def external_event_timeout(ctx, timeout_s):
    timeout_s = 60 if timeout_s is None else timeout_s
    ctx.set_custom_status({"stage": "waiting"})
    event = ctx.wait_for_external_event("approval")
    timer = ctx.create_timer(timedelta(seconds=timeout_s))
    winner = yield task.when_any([event, timer])
    if winner == event:
        ctx.set_custom_status({"stage": "approved"})
        return {"approved": event.get_result()}
    ctx.set_custom_status({"stage": "timed-out"})
    return "timed out"


def retry_catch(ctx, _):
    try:
        return (yield ctx.call_activity("flaky", input=0))
    except task.TaskFailedError as error:
        ctx.set_custom_status({"firstError": error.details.message})
        return (yield ctx.call_activity("flaky", input=1))


def retry_policy(ctx, _):
    policy = task.RetryPolicy(first_retry_interval=timedelta(seconds=5),
                              backoff_coefficient=2.0, max_number_of_attempts=3)
    return (yield ctx.call_activity("fail_twice", input="x", retry_policy=policy))


def continue_as_new(ctx, counter):
    counter = counter or 0
    if counter >= 3:
        return counter
    following = yield ctx.call_activity("increment", input=counter)
    ctx.continue_as_new(following)


def uncaught_failure(ctx, _):
    return (yield ctx.call_activity("flaky", input=0))


def sub_orchestration(ctx, _):
    child = yield ctx.call_sub_orchestrator("chaining", input=["Paris", "Rome", "Oslo"])
    return {"child": child}


# Beyond the reference functions: the deterministic helpers and buffered
# events, which the Rust test writes out the same way.
def helpers(ctx, _):
    first = {"guids": [ctx.new_uuid(), ctx.new_uuid()], "replaying": ctx.is_replaying,
             "now": ctx.current_utc_datetime.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    ctx.set_custom_status(first)
    yield ctx.call_activity("say_hello", input="x")
    return {"first": first, "guid": ctx.new_uuid(), "replaying": ctx.is_replaying,
            "now": ctx.current_utc_datetime.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


def buffered_events(ctx, _):
    yield ctx.call_activity("say_hello", input="first")
    a = yield ctx.wait_for_external_event("Signal")
    b = yield ctx.wait_for_external_event("signal")
    return [a, b]


def long_timer(ctx, _):
    yield ctx.create_timer(timedelta(days=7, seconds=5))
    return "woke"


ORCHESTRATORS = {f.__name__: f for f in [helpers, buffered_events, long_timer, 
    chaining, fan_out_fan_in, timer_then_activity, external_event_timeout, retry_catch,
    retry_policy, continue_as_new, uncaught_failure, sub_orchestration]}

attempts = {}


class ActivityError(Exception):
    pass


def run_activity(instance_id, name, value):
    if name == "say_hello":
        return f"Hello, {value}!"
    if name == "square":
        return value * value
    if name == "increment":
        return value + 1
    if name == "flaky":
        if value == 0:
            raise ActivityError("flaky fails for 0")
        return "ok"
    if name == "fail_twice":
        key = (instance_id, name)
        attempts[key] = attempts.get(key, 0) + 1
        if attempts[key] <= 2:
            raise ActivityError(f"attempt {attempts[key]} failed")
        return "succeeded on attempt 3"
    raise ActivityError(f"no activity {name}")


def payload(text):
    return None if text is None or text == "" else json.loads(text)


def micros(ts):
    return ts.seconds * 1_000_000 + ts.nanos // 1000


def failure(details):
    if details is None:
        return None
    return {"type": details.errorType.split(".")[-1], "message": details.errorMessage,
            "inner": failure(details.innerFailure) if details.HasField("innerFailure") else None}


def normalize(response):
    """The response's meaning: what must match between the executors."""
    actions = []
    for action in response.actions:
        kind = action.WhichOneof("orchestratorActionType")
        item = {"id": action.id, "kind": kind}
        if kind == "scheduleTask":
            item.update(name=action.scheduleTask.name, input=payload(action.scheduleTask.input.value))
        elif kind == "createSubOrchestration":
            sub = action.createSubOrchestration
            item.update(name=sub.name, instanceId=sub.instanceId, input=payload(sub.input.value))
        elif kind == "createTimer":
            item.update(fireAt=micros(action.createTimer.fireAt))
        elif kind == "sendEvent":
            item.update(instanceId=action.sendEvent.instance.instanceId, name=action.sendEvent.name,
                        data=payload(action.sendEvent.data.value))
        elif kind == "completeOrchestration":
            done = action.completeOrchestration
            item.update(status=done.orchestrationStatus, result=payload(done.result.value),
                        failure=failure(done.failureDetails) if done.HasField("failureDetails") else None,
                        carryover=[[e.eventRaised.name, payload(e.eventRaised.input.value)]
                                   for e in done.carryoverEvents])
        actions.append(item)
    status = response.customStatus.value if response.HasField("customStatus") else None
    return {"actions": actions, "customStatus": payload(status), "requiresHistory": response.requiresHistory}


class Backend:
    """Plays the Durable extension for one instance and its children."""

    def __init__(self, orchestrators, out):
        self.registry = worker._Registry()
        for name, fn in orchestrators.items():
            self.registry.add_named_orchestrator(name, fn)
        self.out = out
        self.clock = T0

    def tick(self, seconds=1):
        self.clock += timedelta(seconds=seconds)
        return ph.new_orchestrator_started_event(self.clock)

    def step(self, case, instance_id, past, new):
        executor = worker._OrchestrationExecutor(self.registry, logging.getLogger("replay"),
                                                  DEFAULT_DATA_CONVERTER)
        result = executor.execute(instance_id, past, new)
        response = pb.OrchestratorResponse(instanceId=instance_id, actions=result.actions,
                                           customStatus=ph.get_string_value(result.encoded_custom_status))
        request = pb.OrchestratorRequest(instanceId=instance_id, pastEvents=past, newEvents=new)
        self.out.append({
            "case": case,
            "instanceId": instance_id,
            "request": base64.b64encode(request.SerializeToString()).decode(),
            "response": base64.b64encode(response.SerializeToString()).decode(),
            "expected": normalize(response),
        })
        return list(response.actions)

    def run(self, case, name, encoded_input, instance_id, raise_after_first=None, terminate_after_first=False,
            events_after_first=(), script=None):
        """Runs to completion; returns (status, encoded result)."""
        past = []
        new = [self.tick(), ph.new_execution_started_event(name, instance_id, encoded_input)]
        first = True
        while True:
            actions = self.step(case, instance_id, past, new)
            past = past + new
            new = [self.tick()]
            timers = []
            completion = None
            for action in actions:
                kind = action.WhichOneof("orchestratorActionType")
                if kind == "scheduleTask":
                    scheduled = action.scheduleTask
                    past.append(ph.new_task_scheduled_event(action.id, scheduled.name, scheduled.input.value or None))
                    try:
                        value = run_activity(instance_id, scheduled.name, payload(scheduled.input.value))
                        new.append(ph.new_task_completed_event(action.id, json.dumps(value)))
                    except ActivityError as error:
                        new.append(ph.new_task_failed_event(action.id, error))
                elif kind == "createTimer":
                    fire_at = action.createTimer.fireAt.ToDatetime()
                    past.append(ph.new_timer_created_event(action.id, fire_at))
                    timers.append((fire_at, action.id))
                elif kind == "createSubOrchestration":
                    sub = action.createSubOrchestration
                    past.append(ph.new_sub_orchestration_created_event(
                        action.id, sub.name, sub.instanceId, sub.input.value or None))
                    status, result = self.run(case, sub.name, sub.input.value or None, sub.instanceId)
                    if status == pb.ORCHESTRATION_STATUS_COMPLETED:
                        new.append(ph.new_sub_orchestration_completed_event(action.id, result))
                    else:
                        new.append(ph.new_sub_orchestration_failed_event(action.id, ActivityError("child failed")))
                elif kind == "completeOrchestration":
                    completion = action.completeOrchestration
            past.append(ph.new_orchestrator_completed_event())
            if completion is not None:
                if completion.orchestrationStatus == pb.ORCHESTRATION_STATUS_CONTINUED_AS_NEW:
                    past = []
                    new = [self.tick(), ph.new_execution_started_event(name, instance_id, completion.result.value or None)]
                    new += list(completion.carryoverEvents)
                    first = True
                    continue
                return completion.orchestrationStatus, completion.result.value or None
            if script:
                new += script.pop(0)
            elif first and events_after_first:
                for event_name, data in events_after_first:
                    new.append(ph.new_event_raised_event(event_name, data))
            elif first and raise_after_first is not None:
                new.append(ph.new_event_raised_event("Approval", raise_after_first))
            elif first and terminate_after_first:
                new.append(ph.new_terminated_event(encoded_output=json.dumps("stopped by test")))
            elif len(new) == 1 and timers:
                # Nothing else is due: the clock moves on to the first timer.
                fire_at, timer_id = min(timers)
                self.clock = max(self.clock, fire_at)
                new = [self.tick(0)]
                new.append(ph.new_timer_fired_event(timer_id, fire_at))
            elif len(new) == 1:
                raise RuntimeError(f"{case}: stuck")
            first = False


def main():
    out = []
    cases = [
        ("chaining", None, {}),
        ("chaining_cities", json.dumps(["Lima", "Cairo", "Perth", "Quito"]), {}),
        ("fan_out_fan_in", json.dumps(5), {}),
        ("timer_then_activity", json.dumps(7), {}),
        ("external_event_timeout", None, {"raise_after_first": json.dumps({"by": "ops"})}),
        ("external_event_timeout_timeout", json.dumps(5), {}),
        ("retry_catch", None, {}),
        ("retry_policy", None, {}),
        ("continue_as_new", None, {}),
        ("uncaught_failure", None, {}),
        ("sub_orchestration", None, {}),
        ("terminate", None, {"terminate_after_first": True}),
        ("helpers", None, {}),
        ("long_timer", None, {}),
        ("suspend_resume", json.dumps(600), {"script": [
            [ph.new_suspend_event(), ph.new_event_raised_event("approval", json.dumps("while suspended"))],
            [ph.new_resume_event()],
        ]}),
        ("buffered_events", None, {"events_after_first": [("SIGNAL", "1"), ("signal", json.dumps({"n": 2}))]}),
    ]
    names = {"chaining_cities": "chaining", "external_event_timeout_timeout": "external_event_timeout",
             "suspend_resume": "external_event_timeout",
             "terminate": "external_event_timeout"}
    for case, encoded_input, options in cases:
        name = names.get(case, case)
        Backend(ORCHESTRATORS, out).run(case, name, encoded_input, f"{case}-instance", **options)
    # Non-determinism: chaining's history replayed against changed code.
    recorded = [step for step in out if step["case"] == "chaining"][1]
    request = pb.OrchestratorRequest()
    request.ParseFromString(base64.b64decode(recorded["request"]))
    backend = Backend({"chaining": chaining_changed}, out)
    backend.step("non_determinism", request.instanceId, list(request.pastEvents), list(request.newEvents))
    json.dump(out, sys.stdout, indent=1)


def normalize_given():
    """Reads a JSON list of base64 OrchestratorResponses (made elsewhere)
    and prints them as the SDK's generated classes read them."""
    out = []
    for text in json.load(sys.stdin):
        response = pb.OrchestratorResponse()
        response.ParseFromString(base64.b64decode(text))
        out.append(normalize(response))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    if sys.argv[1:] == ["--normalize"]:
        normalize_given()
    else:
        main()
