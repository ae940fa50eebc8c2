# Microsoft's 2020 Python worker with its WorkerInitRequest handler made to
# fail, as a worker whose runtime cannot start answers: a clear failure in
# WorkerInitResponse.
import sys

from azure_functions_worker import dispatcher, protos


async def refuse(self, request):
    return protos.StreamingMessage(
        request_id=self.request_id,
        worker_init_response=protos.WorkerInitResponse(
            result=protos.StatusResult(
                status=protos.StatusResult.Failure,
                exception=protos.RpcException(message="no runtime for this app"))))


dispatcher.Dispatcher._handle__worker_init_request = refuse
sys.path.insert(0, __file__.rsplit("/", 1)[0])
import worker  # noqa: E402,F401  (runs the worker with the host's arguments)
