"""A small TCP proxy for the cluster tests: each ahead instance that must
be cut off from etcd reaches each member through one of these."""
import socket
import threading


class Proxy:
    """Forwards one local port to one etcd member; close() cuts every
    connection and stops listening, open() listens again on the same port."""

    def __init__(self, target):
        self.target, self.port, self.ls, self.conns, self.lock = target, None, None, [], threading.Lock()

    def open(self):
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port or 0))
        ls.listen(64)
        self.port, self.ls = ls.getsockname()[1], ls
        threading.Thread(target=self.accept, args=(ls,), daemon=True).start()

    def accept(self, ls):
        while True:
            try:
                c, _ = ls.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(self.target, timeout=5)
            except OSError:
                c.close()
                continue
            u.settimeout(None)  # a watch stream may be quiet for long
            with self.lock:
                if ls.fileno() < 0:  # closed meanwhile
                    c.close(), u.close()
                    return
                self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        try:  # wakes the accept() blocked in the other thread; close() alone would not
            self.ls.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ls.close()
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.conns = []
