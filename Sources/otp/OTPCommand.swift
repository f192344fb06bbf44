import ArgumentParser
import NIOCore
import NIOPosix

@main
enum Entry {
    static func main() async {
        // Tasks run on NIO's event loops rather than on a pool of their own, so a handler and the
        // sockets it awaits (client, database, provider) share threads instead of handing work
        // across. It must happen before the first task is scheduled.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await OTPCommand.main()
    }
}

struct OTPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otp",
        abstract: "Phone verification by SMS and WhatsApp, on PostgreSQL.",
        subcommands: [
            DevCommand.self, MigrateCommand.self, ServeCommand.self, WorkCommand.self, BenchFloorCommand.self,
            ExpireCommand.self,
            RollupCommand.self, ReportCommand.self, PartitionsCommand.self, PruneCommand.self, AuditCommand.self,
            PricesCommand.self, AppsCommand.self, KeysCommand.self, UsersCommand.self, ProducersCommand.self,
        ])
}
