#!/usr/bin/python3
"""QEMU user-mode net runs this once per guest connection to the forwarded KBS
address (-netdev user,restrict=on,guestfwd=tcp:ADDR:PORT-cmd:relay.py HOSTPORT):
stdin/stdout is the guest's TCP stream; it is copied to and from 127.0.0.1:HOSTPORT
until either side closes. Only that one address and port are reachable."""
import os
import selectors
import socket
import sys


def main():
    # stdin, stdout and stderr are all the guest's socket: nothing may be printed
    err = os.open(os.devnull, os.O_WRONLY)
    os.dup2(err, 2)
    port = int(sys.argv[1])
    try:
        s = socket.create_connection(('127.0.0.1', port), 10)
    except OSError:
        return 1  # the guest sees its connection closed
    sel = selectors.DefaultSelector()
    sel.register(0, selectors.EVENT_READ, 'guest')
    sel.register(s, selectors.EVENT_READ, 'kbs')
    while True:
        for k, _ in sel.select():
            if k.data == 'guest':
                data = os.read(0, 65536)
                if data:
                    s.sendall(data)
                else:  # the guest is done sending; wait for the KBS to finish
                    sel.unregister(0)
                    s.shutdown(socket.SHUT_WR)
            else:
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b''
                if not data:  # the KBS closed: so does the guest's connection
                    return 0
                view = memoryview(data)
                while view:
                    view = view[os.write(1, view):]


if __name__ == '__main__':
    sys.exit(main())
