"""A web server on 127.0.0.1 standing in for the dataset mirrors.

No data test touches the network: downloads go to a server started in a
thread that serves the test's own temporary folder.
"""

import functools
import http.server
import threading

import pytest


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files like ``python -m http.server``, without logging each request."""

    def log_message(self, format, *args):
        pass


@pytest.fixture
def web_root(tmp_path):
    """The URL (ending in "/") under which ``tmp_path`` is served: ``tmp_path / "a"`` is
    ``web_root + "a"``. Missing files answer 404, like a mirror that lost them."""
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    # A short poll interval: shutdown() waits for the server's next poll.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()
    thread.join()
