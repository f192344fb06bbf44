import ArgumentParser

@main
struct OTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otp",
        abstract: "Phone verification by SMS and WhatsApp, on PostgreSQL.",
        subcommands: [
            DevCommand.self, MigrateCommand.self, ServeCommand.self, WorkCommand.self, ExpireCommand.self,
            RollupCommand.self, PruneCommand.self,
            AppsCommand.self, KeysCommand.self,
        ])
}
