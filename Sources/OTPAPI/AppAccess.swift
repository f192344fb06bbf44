import OTPCore
import OTPHTTP

/// Which apps a request may touch: the one it names (404 when the account has no such app, 403 when
/// the key or its JWT is limited to other apps), or every app of the account the key may use.
struct AppAccess {
    let directory: any AccessDirectory

    func app(_ appID: String?, context: OTPRequestContext) async throws -> App {
        guard let principal = context.identity else { throw APIError.unauthorized }
        guard let appID, !appID.isEmpty else { throw APIError.validation("appid", "appid is required") }
        guard appID.utf8.count <= 64, let app = try await lookUp(appID, principal) else {
            throw APIError(OTPFailure.appNotFound)
        }
        guard Self.mayUse(appID, principal) else { throw APIError(OTPFailure.appForbidden) }
        return app
    }

    /// The key's sole app came with the key; any other is looked up.
    private func lookUp(_ appID: String, _ principal: Principal) async throws -> App? {
        if let app = principal.key.soleApp, app.id == appID, app.accountID == principal.key.accountID { return app }
        return try await directory.app(id: appID, accountID: principal.key.accountID)
    }

    func usableApps(_ appID: String?, context: OTPRequestContext) async throws -> [String] {
        if let appID { return [try await app(appID, context: context).id] }
        guard let principal = context.identity else { throw APIError.unauthorized }
        return try await directory.appIDs(accountID: principal.key.accountID).filter { Self.mayUse($0, principal) }
    }

    static func mayUse(_ appID: String, _ principal: Principal) -> Bool {
        principal.key.mayUse(appID: appID) && (principal.jwtAppID.map { $0 == appID } ?? true)
    }
}
