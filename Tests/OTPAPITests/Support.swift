import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OTPAPI
import OTPCore
import OTPTesting

extension InMemoryWorld {
    /// The production router over this world's in-memory ports, called without a socket.
    func test<Result: Sendable>(
        _ dependencies: APIDependencies? = nil, _ body: @Sendable (any TestClientProtocol) async throws -> Result
    ) async throws -> Result {
        let application = Application(
            router: buildRouter(dependencies ?? self.dependencies),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        return try await application.test(.router) { client in try await body(client) }
    }

    var auth: HTTPFields { [.authorization: basicAuthorization] }

    /// Sends to `recipient` and returns the verification id (the code is `code`).
    func send(_ client: any TestClientProtocol, recipient: String = "+5511999887766", code: String = "482913")
        async throws -> String
    {
        codes.push(code)
        let response = try await client.post(
            "/otp/send", #"{"appid":"\#(app.id)","recipient":"\#(recipient)"}"#, headers: auth)
        guard response.status == .accepted, let id = response.json["verification_id"] as? String else {
            throw TestFailure("send answered \(response.status): \(String(buffer: response.body))")
        }
        return id
    }
}
