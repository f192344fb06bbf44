import AsyncHTTPClient
import Foundation
import OTPCore
import OTPPostgres
import OTPTesting
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The API's listener as a client on the network meets it: idle and half-sent connections are
/// closed, and `/metrics` can move to a listener of its own.
@Suite struct ListenerTests {
    /// Connects to 127.0.0.1:`port`, sends `bytes`, and returns the seconds until the server closed
    /// the connection (nil if it was still open after `limit` seconds).
    static func secondsUntilClosed(port: Int, sending bytes: String, limit: Int = 20) -> Double? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { return nil }
        var timeout = timeval(tv_sec: limit, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let started = Date()
        if !bytes.isEmpty { _ = bytes.withCString { send(fd, $0, strlen($0), 0) } }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let read = recv(fd, &buffer, buffer.count, 0)
            if read == 0 { return Date().timeIntervalSince(started) }
            if read < 0 { return errno == EAGAIN || errno == EWOULDBLOCK ? nil : Date().timeIntervalSince(started) }
        }
    }

    @Test func idleAndHalfSentConnectionsAreClosedAndMetricsMoveToTheirOwnListener() async throws {
        try await TestApp.with { world in
            let (port, metricsPort) = (try EmbeddedPostgres.freePort(), try EmbeddedPostgres.freePort())
            let server = try SpawnedProcess.start(
                ["serve"],
                environment: [
                    "DATABASE_URL": world.databaseURL, "OTP_SECRET_KEY": world.secretKey,
                    "OTP_HTTP_ADDRESS": "127.0.0.1:\(port)", "OTP_HTTP_IDLE_TIMEOUT": "2",
                    "OTP_METRICS_ADDRESS": "127.0.0.1:\(metricsPort)", "OTP_LOG_LEVEL": "warning",
                ])
            defer { server.stop() }
            try await withHTTPClient { http in
                try await waitUntil(seconds: 30) {
                    let ready = try? await http.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(1))
                    return ready?.status.code == 200
                }
                let publicMetrics = try await http.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"), timeout: .seconds(5))
                #expect(publicMetrics.status.code == 404)
                let own = try await http.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(metricsPort)/metrics"), timeout: .seconds(5))
                #expect(own.status.code == 200)
                let text = String(buffer: try await own.body.collect(upTo: 1 << 20))
                #expect(text.contains("otp_http_requests_total") || text.contains("# TYPE"), "\(text.prefix(300))")
            }
            for (name, bytes) in [
                ("idle", ""), ("half-sent head", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "),
            ] {
                let closedAfter = Self.secondsUntilClosed(port: port, sending: bytes)
                #expect(closedAfter != nil && closedAfter! < 10, "\(name): \(String(describing: closedAfter))")
            }
            // A whole request is answered, on a connection that is then closed once idle.
            let answered = Self.secondsUntilClosed(
                port: port, sending: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(answered != nil && answered! >= 1.5, "\(String(describing: answered))")
        }
    }
}
