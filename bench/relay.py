#!/usr/bin/env python3
# A userspace TCP delay relay for the bench (the kernel here has no netem): every chunk is
# delayed RTT/2 per direction from its arrival, order kept, and the TCP handshake's round trip
# is emulated by holding the client's first bytes one extra RTT.
import asyncio, socket, sys, time


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if hasattr(socket, "TCP_QUICKACK"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    return sock


async def pump(reader, writer, half, first_extra):
    # A timestamped queue: each chunk leaves at arrival + delay, never waiting on another's.
    queue = asyncio.Queue()

    async def sender():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                writer.close()
                return
            writer.write(data)
            await writer.drain()

    task = asyncio.create_task(sender())
    extra = first_extra
    try:
        while True:
            data = await reader.read(65536)
            queue.put_nowait((time.monotonic() + half + extra, data or None))
            extra = 0.0
            if not data:
                break
    except ConnectionError:
        queue.put_nowait((time.monotonic() + half, None))
    await task


async def serve(rtt, up_host, up_port, listen_port):
    half = rtt / 2

    async def handle(cr, cw):
        try:
            ur, uw = await asyncio.open_connection(up_host, up_port)
        except OSError:
            cw.close()
            return
        nodelay(cw)
        nodelay(uw)
        await asyncio.gather(
            pump(cr, uw, half, rtt), pump(ur, cw, half, 0.0), return_exceptions=True
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    rtt_ms, up_host, up_port = float(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    listen = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    asyncio.run(serve(rtt_ms / 1000.0, up_host, up_port, listen))
