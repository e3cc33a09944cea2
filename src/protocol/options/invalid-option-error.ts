/**
 * The error of an options object that cannot be right: an unknown key, a wrong type, a value out
 * of range. A TypeError, as Node's own ERR_INVALID_ARG_TYPE is, so `instanceof TypeError` holds;
 * it carries the stable code of every wsforge error (README "Error codes").
 */
import { ErrorCode } from '../errors.js';

export class InvalidOptionError extends TypeError {
  /** Always `WSF_ERR_INVALID_OPTION`. */
  readonly code: ErrorCode = ErrorCode.INVALID_OPTION;
  /**
   * The option at fault, dotted when nested (`perMessageDeflate.level`, `handlers.mesage`);
   * '' when the options argument itself is not an object.
   */
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.name = 'InvalidOptionError';
    this.option = option;
  }
}
