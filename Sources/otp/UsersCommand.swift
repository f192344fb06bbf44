import ArgumentParser
import Foundation
import Logging
import OTPCore
import OTPDashboard
import OTPPostgres
import OTPServices

/// `otp users`: the people who sign in to the dashboard.
struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Create, list and disable dashboard users.",
        subcommands: [Create.self, List.self, Disable.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a user; the password is read from standard input (one line, at least 12 characters).")
        @Option(help: "The account whose apps the user sees (made when new).") var account: String
        @Option(help: "The user's email, used to sign in.") var email: String
        @Option(help: "owner (changes settings, keys, templates) or viewer (only looks).") var role: UserRole = .owner
        @Flag(help: "Print one JSON object.") var json = false

        func validate() throws {
            guard LoginRules.isPlausible(email: LoginRules.normalised(email: email)) else {
                throw CommandError("--email \(email) is not an email address")
            }
            if let problem = DisplayName.problem(account, what: "--account") { throw CommandError(problem) }
        }

        func run() async throws {
            guard let line = readLine(strippingNewline: true), line.count >= LoginRules.minimumPasswordLength else {
                throw CommandError(
                    "give the password on standard input: one line of at least \(LoginRules.minimumPasswordLength) characters"
                )
            }
            let hash = try await Passwords.hash(line)
            let (email, account, role) = (LoginRules.normalised(email: email), account, role)
            try await withUsers {
                try await $0.createUser(email: email, account: account, role: role, passwordHash: hash)
            }
            try Output.print(["email": email, "account": account, "role": role.rawValue], json: json) {
                "created \(email) (\(role.rawValue) of \(account))"
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users (never their passwords).")
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let users = try await withUsers { try await $0.listUsers() }
            try Output.print(["users": users], json: json) {
                users.map { user in
                    let state = user.disabledAt == nil ? "active" : "disabled"
                    return "\(user.email)\t\(user.role.rawValue)\t\(state)\t\(user.account)"
                }.joined(separator: "\n")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user; their sessions end at once.")
        @Argument(help: "The user's email.") var email: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() async throws {
            let email = LoginRules.normalised(email: email)
            try await withUsers { try await $0.disableUser(email: email) }
            try Output.print(["disabled": email], json: json) { "disabled \(email)" }
        }
    }
}

extension UserRole: ExpressibleByArgument {}

/// Runs a user action against `DATABASE_URL`.
func withUsers<Result: Sendable>(_ body: @Sendable (PostgresDashboardUsers) async throws -> Result) async throws
    -> Result
{
    let settings = Settings()
    Bootstrap.logging(level: try settings.logLevel())
    let logger = Logger(label: "otp.admin")
    return try await withPostgres(settings, logger: logger) { client in
        try await body(PostgresDashboardUsers(client: client, logger: logger))
    }
}
