import json
import logging
import math

import azure.functions as func


def main(req: func.HttpRequest) -> func.HttpResponse:
    shape = req.route_params.get("shape")
    logging.info("area of a %s", shape)
    radius = req.params.get("radius")
    if radius is None:
        radius = req.get_json().get("radius")
    radius = float(radius)
    logging.warning("radius %s", radius)
    body = {"shape": shape, "area": math.pi * radius * radius,
            "method": req.method, "agent": req.headers.get("x-agent")}
    return func.HttpResponse(json.dumps(body), status_code=201,
                             headers={"X-Shape": shape},
                             mimetype="application/json")
