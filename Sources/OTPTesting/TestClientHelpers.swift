import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat

/// A test's own failure, with what went wrong.
package struct TestFailure: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

extension TestClientProtocol {
    /// POSTs a JSON body (given as a string so tests can send anything at all).
    package func post(_ path: String, _ json: String, headers: HTTPFields) async throws -> TestResponse {
        var all = headers
        all[.contentType] = "application/json"
        return try await execute(uri: path, method: .post, headers: all, body: ByteBuffer(string: json))
    }

    package func get(_ path: String, headers: HTTPFields) async throws -> TestResponse {
        try await execute(uri: path, method: .get, headers: headers)
    }
}

extension TestResponse {
    /// The body as a JSON object.
    package var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }

    /// The `error` object of an error answer.
    package var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
    package var errorCode: String? { error["code"] as? String }
}
