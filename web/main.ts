/** Entry point of the playground page (served by `shimulator playground`, or bundled into an exported lesson site). */
import { installStyles } from './styles.ts';
import './components/app.ts';

installStyles();
