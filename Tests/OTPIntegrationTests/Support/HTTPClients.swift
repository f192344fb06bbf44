import AsyncHTTPClient

/// An HTTP client for `body`, shut down afterwards whatever happens.
func withHTTPClient<R: Sendable>(_ body: @Sendable (HTTPClient) async throws -> R) async throws -> R {
    let client = HTTPClient(eventLoopGroupProvider: .singleton)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}
