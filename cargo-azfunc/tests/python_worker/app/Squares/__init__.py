import logging

import azure.functions as func


def main(msg: func.QueueMessage, squares: func.Out[str]) -> None:
    side = int(msg.get_body().decode())
    logging.info("square of %d, dequeued %d times", side, msg.dequeue_count)
    squares.set(str(side * side))
