import Foundation
import Hummingbird
import OTPCore
import OTPHTTP
import OTPPostgres
import ServiceLifecycle

/// The benchmark's floor: the smallest honest server on otp's own stack, to measure otp's send
/// against what the stack itself costs. `POST /otp/send` reads the same JSON body and writes the
/// same batch (`PostgresVerificationStore`: group commit, `otp.send_batch`, the same pool), with
/// no authentication, limits, guard, phone parsing, template choice or cryptography: the code's
/// digest and seal are fixed bytes. Never for production: anyone could write rows through it.
package struct FloorServer: Sendable {
    let services: Services
    let appID: String

    package init(services: Services, appID: String) {
        self.services = services
        self.appID = appID
    }

    private struct Body: Decodable {
        var recipient: String?
    }

    /// The store's flushers and the listener.
    package func services(host: String, port: Int) -> [any Service] {
        let store = PostgresVerificationStore(client: services.client, logger: services.logger("otp.store"))
        let router = Router(context: OTPRequestContext.self)
        let appID = appID
        let message = QueuedMessage(
            template: "{{code}} is your code.", templateID: nil, templateVersion: nil, locale: "en",
            whatsAppTemplate: nil)
        let fixed = Data(repeating: 7, count: 32)
        router.post("otp/send") { request, context -> Response in
            let body = try await request.decode(as: Body.self, context: context)
            let new = NewVerification(
                id: Identifiers.verificationID(), appID: appID, recipient: body.recipient ?? "+5511999000000",
                country: "BR", channel: .sms, sender: nil, locale: nil, codeDigest: fixed, sealedCode: fixed,
                keepsSealedCode: false, codeLength: 6, ttlSeconds: 300, maxAttempts: 5, maxSends: 5,
                resendCooldownSeconds: 30, metadata: [:], message: message)
            let outcome = try await store.send(
                new, idempotency: nil, charges: [], fraud: nil, spend: nil, actor: Caller(keyID: "floor", ip: nil))
            guard case .created(let result) = outcome else { return Response(status: .internalServerError) }
            return Response(
                status: .accepted, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"verification_id":"\#(result.verificationID)"}"#)))
        }
        let application = Application(
            router: router, configuration: .init(address: .hostname(host, port: port)),
            logger: services.logger("otp.floor"))
        return store.flushers + [application]
    }
}
