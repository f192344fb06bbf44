import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy in front of PostgreSQL that can fail the way a load balancer with no healthy backend
/// does (HAProxy, PgBouncer, a cloud proxy): during an outage it accepts each connection and closes
/// it at once, and the outage begins by dropping every connection it carries.
final class FaultyProxy: Sendable {
    let port: Int
    private let server: any Channel
    private let outage = Atomic<Bool>(false)
    private let carried = Mutex<[ObjectIdentifier: any Channel]>([:])

    private init(port: Int, server: any Channel) {
        self.port = port
        self.server = server
    }

    static func start(upstreamHost: String, upstreamPort: Int) async throws -> FaultyProxy {
        let box = Mutex<FaultyProxy?>(nil)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { client in
                guard let proxy = box.withLock({ $0 }) else { return client.close() }
                return proxy.accept(client, upstreamHost: upstreamHost, upstreamPort: upstreamPort)
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = FaultyProxy(port: server.localAddress?.port ?? 0, server: server)
        box.withLock { $0 = proxy }
        return proxy
    }

    /// `url` (a `postgres://` URL) pointed at this proxy instead.
    func url(replacingPortIn url: String, upstreamPort: Int) -> String {
        url.replacingOccurrences(of: ":\(upstreamPort)/", with: ":\(port)/")
    }

    func setOutage(_ on: Bool) {
        outage.store(on, ordering: .sequentiallyConsistent)
        guard on else { return }
        let channels = carried.withLock { all in
            defer { all.removeAll() }
            return Array(all.values)
        }
        channels.forEach { $0.close(promise: nil) }
    }

    func stop() {
        setOutage(true)
        server.close(promise: nil)
    }

    private func accept(_ client: any Channel, upstreamHost: String, upstreamPort: Int) -> EventLoopFuture<Void> {
        if outage.load(ordering: .sequentiallyConsistent) { return client.close() }
        track(client)
        ClientBootstrap(group: client.eventLoop)
            .channelInitializer { upstream in
                upstream.pipeline.addHandler(Splice(to: client))
            }
            .connect(host: upstreamHost, port: upstreamPort)
            .whenComplete { result in
                switch result {
                case .success(let upstream):
                    self.track(upstream)
                    client.pipeline.addHandler(Splice(to: upstream)).whenSuccess {
                        client.setOption(.autoRead, value: true).whenSuccess { client.read() }
                    }
                case .failure:
                    client.close(promise: nil)
                }
            }
        return client.eventLoop.makeSucceededVoidFuture()
    }

    private func track(_ channel: any Channel) {
        let key = ObjectIdentifier(channel)
        carried.withLock { $0[key] = channel }
        channel.closeFuture.whenComplete { _ in _ = self.carried.withLock { $0.removeValue(forKey: key) } }
    }
}

/// Writes what one side reads to the other, and closes the other when one side closes.
private final class Splice: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let partner: any Channel

    init(to partner: any Channel) { self.partner = partner }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        partner.close(promise: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
