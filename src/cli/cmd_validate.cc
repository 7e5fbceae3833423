// `intraday validate`: placeholder until its subsystem lands.
#include "cli/commands.h"

namespace intraday::cli {

CommandRunner AddValidateCommand(CLI::App& app) {
  app.add_subcommand("validate", "(validate: not available yet)");
  return [] { return Status::NotImplemented("'validate' is not available in this build yet"); };
}

}  // namespace intraday::cli
