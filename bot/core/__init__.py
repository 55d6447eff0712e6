"""What every layer stands on: settings, the working-day clock, gettext, keys, locks and the
Services bundle. Imports nothing else of bot/.
"""
