#!/usr/bin/env node
/**
 * The `streamhouse` command: serve an agent, administer topics, produce and
 * consume from the terminal, inspect consumer groups, agents and the cluster.
 */
import { Command } from 'commander';
import { serveCommand } from './serve.js';
import { topicsCommand } from './topics.js';
import { produceCommand } from './produce.js';
import { consumeCommand } from './consume.js';
import { groupsCommand } from './groups.js';
import { addTlsOptions } from './agentOption.js';
import { agentsCommand, clusterCommand } from './cluster.js';
import { aclsCommand } from './acls.js';
import { usersCommand } from './users.js';
import { StreamHouseError } from '../protocol/errors.js';
import { VERSION } from '../version.js';

const program = new Command()
  .name('streamhouse')
  .description('Object-store-native event log: agents, topics, produce, consume')
  .version(VERSION)
  .addCommand(serveCommand())
  .addCommand(topicsCommand())
  .addCommand(produceCommand())
  .addCommand(consumeCommand())
  .addCommand(groupsCommand())
  .addCommand(agentsCommand())
  .addCommand(clusterCommand())
  .addCommand(aclsCommand())
  .addCommand(usersCommand());
addTlsOptions(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof StreamHouseError) {
    console.error(`error ${error.code}: ${error.message}`);
  } else {
    console.error(error instanceof Error ? error.message : String(error));
  }
  process.exitCode = 1;
}
