import logging
import time

import azure.functions as func


def main(req: func.HttpRequest) -> func.HttpResponse:
    logging.info("sleeping past the function timeout")
    time.sleep(30)
    return func.HttpResponse("too late")
