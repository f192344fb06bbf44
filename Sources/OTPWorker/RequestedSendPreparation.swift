import Foundation
import Logging
import OTPCore

/// Prepares, at its first claim, a delivery queued by `otp.request_verification`: the code and the
/// message are made with the API's own rules (`VerificationService.prepare`) and written before the
/// message goes out; a send those rules refuse ends `canceled` with the reason in its events.
package struct RequestedSendPreparation: Sendable {
    let service: VerificationService
    let app: @Sendable (String) async throws -> App?
    let store: any RequestedSendStore

    package init(
        service: VerificationService, app: @escaping @Sendable (String) async throws -> App?,
        store: any RequestedSendStore
    ) {
        self.service = service
        self.app = app
        self.store = store
    }

    /// The delivery ready to send, or where it goes instead.
    enum Result {
        case ready(ClaimedDelivery)
        case notSent(DeliveryResolution)
    }

    func prepare(_ delivery: ClaimedDelivery, workerID: String, logger: Logger) async -> Result {
        let request = RequestedSend(
            deliveryID: delivery.id, verificationID: delivery.verificationID, appID: delivery.appID,
            recipient: delivery.recipient, channel: delivery.channel, locale: delivery.requestedLocale,
            template: delivery.requestedTemplate)
        do {
            guard let app = try await app(delivery.appID) else { return .notSent(.canceled(reason: "app not found")) }
            let prepared = try await service.prepare(request, app: app)
            guard try await store.complete(prepared, workerID: workerID) else {
                return .notSent(.canceled(reason: "superseded: the verification got its code elsewhere"))
            }
            var ready = delivery
            ready.prepared = true
            ready.sealedCode = prepared.sealedCode
            ready.test = prepared.test
            ready.messageTemplate = prepared.message.template
            ready.whatsAppTemplate = prepared.message.whatsAppTemplate
            return .ready(ready)
        } catch let refusal as OTPFailure {
            let reason = refusal.requestedSendReason
            do {
                try await store.cancel(request, reason: reason)
            } catch {
                // The lease runs out and the next claim prepares it again.
                logger.warning(
                    "could not end a refused requested send",
                    metadata: ["delivery.id": "\(delivery.id)", "error": "\(String(reflecting: error))"])
                return .notSent(.retry(at: Date().addingTimeInterval(5), reason: "could not record the refusal"))
            }
            return .notSent(.canceled(reason: reason))
        } catch {
            logger.warning(
                "could not prepare a requested send",
                metadata: ["delivery.id": "\(delivery.id)", "error": "\(String(reflecting: error))"])
            return .notSent(.retry(at: Date().addingTimeInterval(5), reason: "could not prepare the requested send"))
        }
    }
}
