import logging

import azure.functions as func


def main(req: func.HttpRequest) -> func.HttpResponse:
    logging.error("about to fail")
    raise ValueError("no area for that")
