import { switchScenarios } from './scenarios';
import { FreeSwitchHarness } from './freeswitch-harness';

switchScenarios('freeswitch', () => new FreeSwitchHarness());
