import Logging
import OTPCore
import PostgresNIO
import ServiceLifecycle

/// Listens on `otp_directory` and empties the cache of keys and apps on every change. While its
/// connection is down the cache is not used; on reconnecting it starts empty (what changed in
/// between was not heard).
package struct DirectoryChangeListener: Service {
    static let channel = "otp_directory"

    let client: PostgresClient
    let cache: CachedAccessDirectory
    let logger: Logger

    package init(client: PostgresClient, cache: CachedAccessDirectory, logger: Logger) {
        self.client = client
        self.cache = cache
        self.logger = logger
    }

    package func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        // The notification sequence does not end when its task is cancelled (a
                        // cancellation that comes while LISTEN is being set up is lost): closing the
                        // connection ends it, and the pool replaces the connection.
                        try await withTaskCancellationHandler {
                            try await connection.listen(on: Self.channel) { changes in
                                cache.listening()
                                for try await _ in changes { cache.changed() }
                            }
                        } onCancel: {
                            connection.close().whenComplete { _ in }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning(
                        "directory change listener lost its connection; keys and apps are read uncached",
                        metadata: ["error": "\(String(reflecting: error))"])
                }
                cache.deaf()
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
