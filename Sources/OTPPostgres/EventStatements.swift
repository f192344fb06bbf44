import Foundation
import OTPCore
import PostgresNIO

/// The audit trail's one writer for events that stand alone. Events that belong to a change are
/// written by that change's own statement (in the same transaction), with the names of `EventKind`.
enum EventStatements {
    static func insert(
        _ kind: EventKind, appID: String, verificationID: String?, actor: Caller, details: [String: String]
    ) -> PostgresQuery {
        let detailsText = String(decoding: (try? JSONEncoder().encode(details)) ?? Data("{}".utf8), as: UTF8.self)
        return """
            INSERT INTO otp.events (event, app_id, verification_id, actor, ip, details)
            VALUES (\(kind.rawValue), \(appID), \(verificationID), \(actor.keyID), \(actor.ip), \(detailsText)::jsonb)
            """
    }
}
