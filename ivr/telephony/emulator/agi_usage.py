"""Usage texts for the 520 reply.

The five marked "trace" are byte-for-byte what Asterisk 22.10.1 sent (raw doc markup
included). The others are short descriptions written for the emulator, not Asterisk's text.
"""

from __future__ import annotations

# fmt: off
USAGE: dict[str, str] = {
    # trace
    'STREAM FILE': (
        'Send the given file, allowing playback to be interrupted by the given digits, '
        'if any. Returns <literal>0</literal> if playback completes without a digit '
        'being pressed, or the ASCII numerical value of the digit if one was pressed, or '
        '<literal>-1</literal> on error or if the channel was disconnected. If '
        'musiconhold is playing before calling stream file it will be automatically '
        'stopped and will not be restarted after completion.\n'
        'It sets the following channel variables upon completion:\n'
        '<variable>PLAYBACKSTATUS</variable>: The status of the playback attempt as a '
        'text string.\n'
        '    <value>SUCCESS</value>\n'
        '    <value>FAILED</value>\n'
    ),
    # trace
    'GET DATA': (
        'Stream the given <replaceable>file</replaceable>, and receive DTMF data.\n'
        'Returns the digits received from the channel at the other end.\n'
    ),
    # trace
    'WAIT FOR DIGIT': (
        'Waits up to <replaceable>timeout</replaceable> milliseconds for channel to '
        'receive a DTMF digit. Returns <literal>-1</literal> on channel failure, '
        '<literal>0</literal> if no digit is received in the timeout, or the numerical '
        'value of the ascii of the digit if one is received. Use <literal>-1</literal> '
        'for the <replaceable>timeout</replaceable> value if you desire the call to '
        'block indefinitely.\n'
    ),
    # trace
    'DATABASE GET': (
        'Retrieves an entry in the Asterisk database for a given '
        '<replaceable>family</replaceable> and <replaceable>key</replaceable>.\n'
        'Returns <literal>0</literal> if <replaceable>key</replaceable> is not set. '
        'Returns <literal>1</literal> if <replaceable>key</replaceable> is set and '
        'returns the variable in parenthesis.\n'
        'Example return code: 200 result=1 (testvariable)\n'
    ),
    # trace
    'SET VARIABLE': (
        'Sets a variable to the current channel.\n'
    ),
    'ANSWER':
        'Answers channel if not already in answer state.\n',
    'CHANNEL STATUS':
        'Returns the status of the specified channelname (4 ring, 6 up).\n',
    'CONTROL STREAM FILE':
        'Send the given file, allowing playback to be controlled by the given digits.\n',
    'DATABASE DEL':
        'Deletes an entry in the Asterisk database for a given family and key.\n',
    'DATABASE DELTREE':
        'Deletes a family or specific keytree within a family in the Asterisk database.\n',
    'DATABASE PUT': (
        'Adds or updates an entry in the Asterisk database for a given family, key, and '
        'value.\n'),
    'EXEC':
        'Executes application with given options.\n',
    'GET FULL VARIABLE':
        'Evaluates the given expression against the channel specified by channelname.\n',
    'GET OPTION':
        'Behaves similar to STREAM FILE but used with a timeout option.\n',
    'GET VARIABLE': (
        'Returns 0 if variablename is not set. Returns 1 if it is set and returns the '
        'variable in parentheses.\n'),
    'RECORD FILE':
        'Record to a file until a given dtmf digit in the sequence is received.\n',
    'SAY ALPHA': (
        'Say a given character string, returning early if any of the given DTMF digits '
        'are received.\n'),
    'SAY DIGITS': (
        'Say a given digit string, returning early if any of the given DTMF digits are '
        'received.\n'),
    'SAY NUMBER': (
        'Say a given number, returning early if any of the given DTMF digits are '
        'received.\n'),
    'SET AUTOHANGUP':
        'Cause the channel to automatically hangup at time seconds in the future.\n',
    'SET CALLERID':
        'Changes the callerid of the current channel.\n',
    'SET CONTEXT':
        'Sets the context for continuation upon exiting the application.\n',
    'SET EXTENSION':
        'Changes the extension for continuation upon exiting the application.\n',
    'SET MUSIC':
        'Enables/Disables the music on hold generator.\n',
    'SET PRIORITY':
        'Changes the priority for continuation upon exiting the application.\n',
    'VERBOSE':
        'Sends message to the console via verbose message system.\n',
    'HANGUP':
        'Hangs up the specified channel.\n',
}
# fmt: on
